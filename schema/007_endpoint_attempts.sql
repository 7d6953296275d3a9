-- When flr-sync last asked OpenRouter about a model's endpoints, and how
-- that went.  model_endpoint_stats (006) keeps the last good figures and
-- a failed fetch must leave them as they were; yet the failed model has
-- had its turn.  Without a record of the attempt, models whose fetch
-- always fails would hold the first places of every run (theirs is the
-- oldest fetched_at) and, with more models than FLR_ENDPOINT_FETCH_MAX,
-- the others would never be asked.  Runs ask the least recently
-- attempted models first.
CREATE TABLE model_endpoint_attempts (
	model_id text PRIMARY KEY REFERENCES free_models (id) ON DELETE CASCADE,
	attempted_at timestamptz NOT NULL,
	-- NULL when the attempt succeeded; else its one-line reason.
	last_error text
);
CREATE INDEX model_endpoint_attempts_time_idx
	ON model_endpoint_attempts (attempted_at);
