-- Health sources besides this instance's own reports (imported by
-- flr-sync; the API only reads them).
--
-- upstream_rollup: an upstream instance of this project's exported
-- counts of ITS OWN reports, per model and bucket at the three grains of
-- feedback_rollup.  Kept apart from local reports: never exported again
-- (two instances that federate both ways do not count each other twice)
-- and never mixed into a user's own counts.  A good import replaces the
-- whole table in one transaction; a failed one changes nothing.
CREATE TABLE upstream_rollup (
	grain integer NOT NULL CHECK (grain IN (60, 3600, 86400)),
	bucket timestamptz NOT NULL,
	-- No reference to free_models: the upstream may know models that
	-- this instance has not synced (yet).
	model_id text NOT NULL,
	success_count integer NOT NULL CHECK (success_count >= 0),
	rate_limited integer NOT NULL CHECK (rate_limited >= 0),
	unavailable integer NOT NULL CHECK (unavailable >= 0),
	error integer NOT NULL CHECK (error >= 0),
	PRIMARY KEY (grain, bucket, model_id)
);

-- upstream_rates: what the hosted service publishes (error rates without
-- counts, per model and window).  Never turned into counts.
CREATE TABLE upstream_rates (
	model_id text NOT NULL,
	time_range text NOT NULL
		CHECK (time_range IN ('15m', '30m', '1h', '6h', '24h', '7d', '30d')),
	error_rate numeric NOT NULL CHECK (error_rate BETWEEN 0 AND 100),
	PRIMARY KEY (model_id, time_range)
);

-- One row: the upstream and how its last import went.  kind is 'flr'
-- (counts) or 'hosted' (rates).  last_success_at is the age of the data
-- the API shows; a failed run only moves last_attempt_at and last_error.
CREATE TABLE upstream_meta (
	id boolean PRIMARY KEY DEFAULT true CHECK (id),
	url text,
	kind text CHECK (kind IN ('flr', 'hosted')),
	last_success_at timestamptz,
	last_attempt_at timestamptz,
	last_error text,
	models integer NOT NULL DEFAULT 0,
	rows integer NOT NULL DEFAULT 0,
	version bigint NOT NULL DEFAULT 0
);
INSERT INTO upstream_meta DEFAULT VALUES;

-- OpenRouter's own statistics of each active free model's endpoints
-- (GET /models/{author}/{slug}/endpoints), folded over the model's
-- providers: the best uptime (a request goes to a provider that is up),
-- the lowest median latency, the highest median throughput.  NULL where
-- OpenRouter gave nothing (latency needs a key).  A model whose fetch
-- failed keeps its last row.
CREATE TABLE model_endpoint_stats (
	model_id text PRIMARY KEY REFERENCES free_models (id) ON DELETE CASCADE,
	fetched_at timestamptz NOT NULL,
	endpoints integer NOT NULL CHECK (endpoints >= 0),
	uptime_5m double precision CHECK (uptime_5m BETWEEN 0 AND 100),
	uptime_30m double precision CHECK (uptime_30m BETWEEN 0 AND 100),
	uptime_1d double precision CHECK (uptime_1d BETWEEN 0 AND 100),
	latency_p50_ms double precision CHECK (latency_p50_ms >= 0),
	throughput_p50 double precision CHECK (throughput_p50 >= 0),
	providers text[] NOT NULL DEFAULT '{}'
);

-- A short history of the same figures, for charts; pruned by retention
-- like the availability snapshots.
CREATE TABLE model_endpoint_history (
	model_id text NOT NULL REFERENCES free_models (id) ON DELETE CASCADE,
	fetched_at timestamptz NOT NULL,
	uptime_30m double precision,
	latency_p50_ms double precision,
	throughput_p50 double precision,
	PRIMARY KEY (model_id, fetched_at)
);
CREATE INDEX model_endpoint_history_time_idx
	ON model_endpoint_history (fetched_at);

-- Window counts of the upstream's reports over [since, now()] (NULL: all
-- time), as feedback_counts() gives local ones but from buckets alone:
-- minutes up to the first whole hour, hours up to the first whole day,
-- then days.  The upstream exports minute buckets for its last 25 hours
-- and hour buckets for its last 31 days (see the README, "Federation"),
-- so a window's start is exact to the minute up to 24 h, to the hour up
-- to 30 days, and to the day beyond.
CREATE OR REPLACE FUNCTION upstream_counts(since timestamptz)
RETURNS TABLE (model_id text, success_count bigint, rate_limited bigint,
	unavailable bigint, error bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	WITH edges AS (
		SELECT m1, h1,
		       CASE WHEN isfinite(h1) AND date_trunc('day', h1, 'UTC') < h1
		            THEN date_trunc('day', h1, 'UTC') + interval '1 day'
		            ELSE date_trunc('day', h1, 'UTC') END AS d1
		FROM (SELECT m1,
		             CASE WHEN isfinite(m1) AND date_trunc('hour', m1) < m1
		                  THEN date_trunc('hour', m1) + interval '1 hour'
		                  ELSE date_trunc('hour', m1) END AS h1
		      FROM (SELECT CASE WHEN isfinite(s) AND date_trunc('minute', s) < s
		                        THEN date_trunc('minute', s) + interval '1 minute'
		                        ELSE date_trunc('minute', s) END AS m1
		            FROM (SELECT coalesce(since, '-infinity') AS s) z) a) b
	), parts AS (
		SELECT r.model_id, r.success_count, r.rate_limited,
		       r.unavailable, r.error
		FROM upstream_rollup r, edges e
		WHERE r.grain = 60 AND r.bucket >= e.m1 AND r.bucket < e.h1
		UNION ALL
		SELECT r.model_id, r.success_count, r.rate_limited,
		       r.unavailable, r.error
		FROM upstream_rollup r, edges e
		WHERE r.grain = 3600 AND r.bucket >= e.h1 AND r.bucket < e.d1
		UNION ALL
		SELECT r.model_id, r.success_count, r.rate_limited,
		       r.unavailable, r.error
		FROM upstream_rollup r, edges e
		WHERE r.grain = 86400 AND r.bucket >= e.d1
	)
	SELECT model_id, sum(success_count)::bigint, sum(rate_limited)::bigint,
	       sum(unavailable)::bigint, sum(error)::bigint
	FROM parts GROUP BY model_id
$$;
