-- Health over a window in a few milliseconds at any history size.
--
-- feedback_rollup interleaves everybody's rows (user 0) with each user's
-- on the heap, so a window's few hundred buckets sat on as many pages.
-- A covering index lets the counts come from the index alone.
CREATE INDEX feedback_rollup_counts_idx ON feedback_rollup
	(user_id, grain, bucket)
	INCLUDE (model_id, success_count, rate_limited, unavailable, error);

-- "All time" is the window from -infinity: whole day buckets only, and
-- no OR branch that makes the planner read every day bucket for every
-- other window.  The window edges stay in a CTE (the cheap plan); as
-- that CTE is materialised, the planner cannot see its values, so the
-- raw part also carries the bound "less than a minute after `since`",
-- an expression it can estimate: an index range scan at any history
-- size (with ten million reports it otherwise read every one).
CREATE OR REPLACE FUNCTION feedback_counts(since timestamptz, uid bigint)
RETURNS TABLE (model_id text, success_count bigint, rate_limited bigint,
	unavailable bigint, error bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	WITH edges AS (
		SELECT s, m1, h1,
		       CASE WHEN isfinite(h1) AND date_trunc('day', h1, 'UTC') < h1
		            THEN date_trunc('day', h1, 'UTC') + interval '1 day'
		            ELSE date_trunc('day', h1, 'UTC') END AS d1
		FROM (SELECT s, m1,
		             CASE WHEN isfinite(m1) AND date_trunc('hour', m1) < m1
		                  THEN date_trunc('hour', m1) + interval '1 hour'
		                  ELSE date_trunc('hour', m1) END AS h1
		      FROM (SELECT s,
		                   CASE WHEN isfinite(s) AND date_trunc('minute', s) < s
		                        THEN date_trunc('minute', s) + interval '1 minute'
		                        ELSE date_trunc('minute', s) END AS m1
		            FROM (SELECT coalesce(since, '-infinity') AS s) z) a) b
	), parts AS (
		SELECT f.model_id,
		       (f.outcome = 'success')::int AS s,
		       (f.outcome = 'rate_limited')::int AS rl,
		       (f.outcome = 'unavailable')::int AS un,
		       (f.outcome = 'error')::int AS er
		FROM model_feedback f, edges e
		WHERE f.created_at >= since
		  AND f.created_at < since + interval '1 minute'
		  AND f.created_at >= e.s AND f.created_at < e.m1
		  AND (uid = 0 OR f.user_id = uid)
		UNION ALL
		SELECT r.model_id, r.success_count, r.rate_limited,
		       r.unavailable, r.error
		FROM feedback_rollup r, edges e
		WHERE r.user_id = uid AND r.grain = 60
		  AND r.bucket >= e.m1 AND r.bucket < e.h1
		UNION ALL
		SELECT r.model_id, r.success_count, r.rate_limited,
		       r.unavailable, r.error
		FROM feedback_rollup r, edges e
		WHERE r.user_id = uid AND r.grain = 3600
		  AND r.bucket >= e.h1 AND r.bucket < e.d1
		UNION ALL
		SELECT r.model_id, r.success_count, r.rate_limited,
		       r.unavailable, r.error
		FROM feedback_rollup r, edges e
		WHERE r.user_id = uid AND r.grain = 86400 AND r.bucket >= e.d1
	)
	SELECT model_id, sum(s), sum(rl), sum(un), sum(er)
	FROM parts GROUP BY model_id
$$;
