-- Every write of the catalogue moves sync_meta.catalog_version, as 011
-- does for the upstream's data.  The sync's one statement moves it
-- itself (STMT_SYNC_APPLY, when something changed); an edit by anything
-- else (an operator retiring a model by hand, a test) did not, and a
-- worker kept the catalogue it had loaded (catalog_refresh() reloads on
-- a new version or a new sync) until the next sync, while another worker
-- that loaded later showed the edit.  A statement-level trigger now
-- moves it unless the transaction has already touched sync_meta (its
-- row's xmin is ours): the sync's statement has, so a sync still moves
-- the version exactly as it did.
CREATE FUNCTION catalog_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE sync_meta SET catalog_version = catalog_version + 1
	WHERE xmin <> pg_current_xact_id()::xid;
	RETURN NULL;
END
$$;

CREATE TRIGGER free_models_version AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON free_models
	FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_bump();
