-- A version of the stored reports, for the ETags of the listings, the
-- demo listing and health (see the README, "Conditional requests"): a
-- worker reads it before it reads the counts, and answers 304 only
-- while it has not moved.
--
-- Every statement that inserts, updates or deletes reports (a feedback
-- insert, a retention batch, a user's deletion setting user_id to
-- NULL) adds one to it in the same transaction, so whoever sees the
-- new version also sees the reports it stands for.  A sequence would not
-- give that: nextval() is visible to every session at once, before
-- the report it counts is committed, and a tag read in that moment
-- would be paired with a body that lacks the report, then confirmed
-- (304) to a client holding that body after the report had landed.
--
-- The version is the sum of 16 counters; a connection bumps the one its
-- backend's pid picks.  Each worker holds its own connection, so
-- concurrent reports do not queue on one row lock until their commits
-- (reports about one model already meet on the rollup's rows).  A
-- committed change always raises the sum; nothing lowers it.  One bump
-- per statement, beside the per-row rollup trigger: a retention batch
-- of 5000 reports costs one update, and a statement that changed no
-- report (a refused or dry-run feedback insert) costs none.
CREATE TABLE report_version (
	shard smallint PRIMARY KEY CHECK (shard BETWEEN 0 AND 15),
	version bigint NOT NULL DEFAULT 0
);
INSERT INTO report_version (shard) SELECT generate_series(0, 15);

CREATE FUNCTION report_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	-- TRUNCATE has no transition table, and always changed something.
	IF TG_OP <> 'TRUNCATE' THEN
		IF NOT EXISTS (SELECT 1 FROM changed) THEN
			RETURN NULL;
		END IF;
	END IF;
	UPDATE report_version SET version = version + 1
	WHERE shard = pg_backend_pid() % 16;
	RETURN NULL;
END
$$;

CREATE TRIGGER model_feedback_version_insert AFTER INSERT ON model_feedback
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION report_version_bump();
CREATE TRIGGER model_feedback_version_update AFTER UPDATE ON model_feedback
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION report_version_bump();
CREATE TRIGGER model_feedback_version_delete AFTER DELETE ON model_feedback
	REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION report_version_bump();
CREATE TRIGGER model_feedback_version_truncate AFTER TRUNCATE ON model_feedback
	FOR EACH STATEMENT EXECUTE FUNCTION report_version_bump();
