-- Every write of the upstream's data moves upstream_meta.version, as
-- every write of reports moves the report version (008_data_version.sql).
-- The imports moved it in their own statement; a write by anything else
-- (an operator's fix, a restore, a test) did not, and an ETag or a
-- worker's copy of the counts (shared/listing.c) made of the versions
-- then stood for data that had changed.  Now a statement-level trigger
-- on both tables moves it, once per transaction: a transaction that has
-- already moved it (its row's xmin is ours) leaves it, so an import
-- (STMT_UPSTREAM_CLEAR, then STMT_UPSTREAM_PUT_*, which no longer move it
-- themselves) still adds exactly one.
CREATE FUNCTION upstream_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE upstream_meta SET version = version + 1
	WHERE xmin <> pg_current_xact_id()::xid;
	RETURN NULL;
END
$$;

CREATE TRIGGER upstream_rollup_version AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON upstream_rollup
	FOR EACH STATEMENT EXECUTE FUNCTION upstream_version_bump();
CREATE TRIGGER upstream_rates_version AFTER INSERT OR UPDATE OR DELETE
	OR TRUNCATE ON upstream_rates
	FOR EACH STATEMENT EXECUTE FUNCTION upstream_version_bump();
