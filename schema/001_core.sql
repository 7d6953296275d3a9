-- Core tables: accounts, keys, the model catalogue, feedback with its rollup,
-- request logs, availability snapshots and sync bookkeeping.
-- Applied once by schema/migrate inside one transaction.

CREATE TABLE users (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email text NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 320),
	rate_limit_max integer NOT NULL DEFAULT 200
		CHECK (rate_limit_max >= 0),
	rate_limit_window_seconds integer NOT NULL DEFAULT 86400
		CHECK (rate_limit_window_seconds > 0),
	-- The fixed quota window: opened by the first counted request.
	-- window_count may reach rate_limit_max + 1 (a refused attempt);
	-- it never grows past that.
	window_start timestamptz,
	window_count integer NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	key_prefix text NOT NULL DEFAULT 'fma_',
	key_start text NOT NULL,
	-- base64url(SHA-256(key)) without padding; the key itself is never
	-- stored.
	key_hash text NOT NULL UNIQUE CHECK (length(key_hash) = 43),
	enabled boolean NOT NULL DEFAULT true,
	expires_at timestamptz,
	last_used_at timestamptz,
	request_count bigint NOT NULL DEFAULT 0,
	preferences jsonb NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

CREATE TABLE free_models (
	id text PRIMARY KEY,
	name text NOT NULL,
	context_length bigint,
	max_completion_tokens bigint,
	description text,
	modality text,
	input_modalities text[] NOT NULL DEFAULT '{}',
	output_modalities text[] NOT NULL DEFAULT '{}',
	supported_parameters text[] NOT NULL DEFAULT '{}',
	is_moderated boolean,
	is_active boolean NOT NULL DEFAULT true,
	-- OpenRouter's "created", when it sent one.
	created_at timestamptz,
	first_seen_at timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_feedback (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	model_id text NOT NULL REFERENCES free_models (id),
	user_id bigint REFERENCES users (id) ON DELETE SET NULL,
	api_key_id uuid REFERENCES api_keys (id) ON DELETE SET NULL,
	request_id uuid,
	outcome text NOT NULL CHECK (outcome IN
		('success', 'rate_limited', 'unavailable', 'error')),
	details text CHECK (length(details) <= 1000),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_feedback_created_idx ON model_feedback (created_at);
CREATE INDEX model_feedback_user_idx ON model_feedback (user_id, created_at);

-- Reports counted per model, per user and per bucket at three grains
-- (60 s, 3600 s, 86400 s; UTC-aligned).  user_id 0 holds everybody's
-- reports.  Maintained by a trigger in the same transaction as each
-- report, so a window's counts never need the raw rows except for the
-- part of its first minute that precedes a full bucket.
CREATE TABLE feedback_rollup (
	grain integer NOT NULL CHECK (grain IN (60, 3600, 86400)),
	bucket timestamptz NOT NULL,
	user_id bigint NOT NULL,
	model_id text NOT NULL,
	success_count integer NOT NULL DEFAULT 0,
	rate_limited integer NOT NULL DEFAULT 0,
	unavailable integer NOT NULL DEFAULT 0,
	error integer NOT NULL DEFAULT 0,
	PRIMARY KEY (grain, user_id, bucket, model_id)
);

CREATE FUNCTION feedback_bucket(ts timestamptz, grain integer)
RETURNS timestamptz LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT to_timestamp(floor(extract(epoch FROM ts) / grain) * grain)
$$;

CREATE FUNCTION feedback_rollup_add() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	g integer;
	u bigint;
	s integer := (NEW.outcome = 'success')::integer;
	rl integer := (NEW.outcome = 'rate_limited')::integer;
	un integer := (NEW.outcome = 'unavailable')::integer;
	er integer := (NEW.outcome = 'error')::integer;
BEGIN
	FOREACH g IN ARRAY ARRAY[60, 3600, 86400] LOOP
		FOREACH u IN ARRAY ARRAY[0, coalesce(NEW.user_id, 0)] LOOP
			INSERT INTO feedback_rollup AS r (grain, bucket, user_id,
				model_id, success_count, rate_limited, unavailable,
				error)
			VALUES (g, feedback_bucket(NEW.created_at, g), u,
				NEW.model_id, s, rl, un, er)
			ON CONFLICT (grain, user_id, bucket, model_id) DO UPDATE
			SET success_count = r.success_count + s,
			    rate_limited = r.rate_limited + rl,
			    unavailable = r.unavailable + un,
			    error = r.error + er;
			-- A report without a user is counted once, under 0.
			EXIT WHEN coalesce(NEW.user_id, 0) = 0;
		END LOOP;
	END LOOP;
	RETURN NULL;
END
$$;

CREATE TRIGGER model_feedback_rollup AFTER INSERT ON model_feedback
	FOR EACH ROW EXECUTE FUNCTION feedback_rollup_add();

-- Counts per model of the reports created at or after `since` (NULL:
-- all of them), everybody's when uid is 0, else that user's.  Reads
-- raw rows only for [since, next whole minute); then whole minutes up
-- to the next hour, whole hours up to the next day, and whole days.
-- Buckets at the right edge hold everything after their start, so no
-- upper bound is needed.
CREATE FUNCTION feedback_counts(since timestamptz, uid bigint)
RETURNS TABLE (model_id text, success_count bigint, rate_limited bigint,
	unavailable bigint, error bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	WITH edges AS (
		SELECT since AS s,
		       m1,
		       h1,
		       date_trunc('day', h1, 'UTC')
		       + CASE WHEN date_trunc('day', h1, 'UTC') < h1
		              THEN interval '1 day' ELSE interval '0' END AS d1
		FROM (SELECT m1,
		             date_trunc('hour', m1)
		             + CASE WHEN date_trunc('hour', m1) < m1
		                    THEN interval '1 hour'
		                    ELSE interval '0' END AS h1
		      FROM (SELECT date_trunc('minute', since)
		                   + CASE WHEN date_trunc('minute', since) < since
		                          THEN interval '1 minute'
		                          ELSE interval '0' END AS m1) a) b
	), parts AS (
		SELECT f.model_id,
		       (f.outcome = 'success')::int AS s,
		       (f.outcome = 'rate_limited')::int AS rl,
		       (f.outcome = 'unavailable')::int AS un,
		       (f.outcome = 'error')::int AS er
		FROM model_feedback f, edges e
		WHERE since IS NOT NULL
		  AND f.created_at >= e.s AND f.created_at < e.m1
		  AND (uid = 0 OR f.user_id = uid)
		UNION ALL
		SELECT r.model_id, r.success_count, r.rate_limited,
		       r.unavailable, r.error
		FROM feedback_rollup r, edges e
		WHERE r.user_id = uid AND (
		      (since IS NULL AND r.grain = 86400)
		   OR (r.grain = 60 AND r.bucket >= e.m1 AND r.bucket < e.h1)
		   OR (r.grain = 3600 AND r.bucket >= e.h1 AND r.bucket < e.d1)
		   OR (r.grain = 86400 AND r.bucket >= e.d1))
	)
	SELECT model_id, sum(s), sum(rl), sum(un), sum(er)
	FROM parts GROUP BY model_id
$$;

CREATE TABLE api_request_logs (
	id uuid PRIMARY KEY,
	user_id bigint REFERENCES users (id) ON DELETE SET NULL,
	api_key_id uuid REFERENCES api_keys (id) ON DELETE SET NULL,
	endpoint text NOT NULL,
	status smallint NOT NULL,
	duration_ms real NOT NULL,
	model_ids text[] NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_request_logs_created_idx ON api_request_logs (created_at);
CREATE INDEX api_request_logs_user_idx
	ON api_request_logs (user_id, created_at);

CREATE TABLE model_availability_snapshots (
	model_id text NOT NULL REFERENCES free_models (id),
	day date NOT NULL,
	first_seen_at timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (model_id, day)
);
CREATE INDEX model_availability_day_idx
	ON model_availability_snapshots (day);

CREATE TABLE sync_runs (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	started_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,
	status text NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'success', 'failed')),
	models_total integer,
	models_free integer,
	models_inserted integer,
	models_updated integer,
	models_deactivated integer,
	error text
);

-- One row: the catalogue version (bumped by every sync that changed
-- the catalogue, so workers know to reload their copy) and the end of
-- the last successful sync.
CREATE TABLE sync_meta (
	id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	catalog_version bigint NOT NULL DEFAULT 0,
	last_success_at timestamptz
);
INSERT INTO sync_meta DEFAULT VALUES;
