-- The request log names its user and key without foreign keys.  Each row
-- a worker wrote ran two referential checks, each locking the user's and
-- the key's row FOR KEY SHARE, rows that the counted requests of the
-- same user update at the same moment: most of what a batch cost, and
-- what made the counted listings queue behind it.  And a key deleted
-- while its rows were queued failed the whole batch, other users' rows
-- with it.  The batch (sql.c, STMT_REQUEST_LOG) now names only a key it
-- holds locked and a user that exists; what ON DELETE SET NULL did, the
-- triggers below do.
ALTER TABLE api_request_logs
	DROP CONSTRAINT IF EXISTS api_request_logs_user_id_fkey,
	DROP CONSTRAINT IF EXISTS api_request_logs_api_key_id_fkey;

-- A deleted key's rows are found by index, not by reading the whole log.
CREATE INDEX IF NOT EXISTS api_request_logs_key_idx
	ON api_request_logs (api_key_id) WHERE api_key_id IS NOT NULL;

CREATE OR REPLACE FUNCTION request_log_forget_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE api_request_logs SET api_key_id = NULL WHERE api_key_id = OLD.id;
	RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION request_log_forget_user() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE api_request_logs SET user_id = NULL WHERE user_id = OLD.id;
	RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_forget_request_logs
	AFTER DELETE ON api_keys
	FOR EACH ROW EXECUTE FUNCTION request_log_forget_key();
CREATE TRIGGER users_forget_request_logs
	AFTER DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION request_log_forget_user();
