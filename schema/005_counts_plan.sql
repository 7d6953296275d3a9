-- A first minute the planner can see.  feedback_counts() keeps its
-- window edges in a CTE; referenced four times, the CTE is
-- materialised, so the planner guessed a third of all reports for the
-- raw first minute and, with ten million reports, read every one.  The
-- raw part now also carries the bound "less than a minute after
-- `since`", an expression the planner can estimate, so it stays an
-- index range scan at any history size, while the rest of the plan
-- (the cheap one) is unchanged.
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
