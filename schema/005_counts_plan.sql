-- Window edges the planner can see through.  feedback_counts() kept
-- its edges in a CTE; referenced four times, the CTE was materialised,
-- the planner guessed a third of the reports for the raw first minute,
-- and with ten million reports it read them all.  The edges are now
-- plain expressions on `since`, so the raw part is an index range scan
-- at any history size.

-- The first bucket boundary of `grain` seconds at or after ts (UTC
-- epoch arithmetic, like feedback_bucket); infinities stay as they are.
CREATE FUNCTION feedback_ceil(ts timestamptz, grain integer)
RETURNS timestamptz LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE WHEN isfinite(ts)
	            THEN to_timestamp(ceil(extract(epoch FROM ts) / grain) * grain)
	            ELSE ts END
$$;

-- Counts per model of the reports created at or after `since` (NULL:
-- all of them), everybody's when uid is 0, else that user's: the raw
-- reports before the first whole minute, whole minutes up to the first
-- whole hour, whole hours up to the first whole day, then whole days.
-- Buckets at the right edge hold everything after their start, so no
-- upper bound is needed.
CREATE OR REPLACE FUNCTION feedback_counts(since timestamptz, uid bigint)
RETURNS TABLE (model_id text, success_count bigint, rate_limited bigint,
	unavailable bigint, error bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT model_id, sum(s), sum(rl), sum(un), sum(er) FROM (
		SELECT f.model_id,
		       (f.outcome = 'success')::int AS s,
		       (f.outcome = 'rate_limited')::int AS rl,
		       (f.outcome = 'unavailable')::int AS un,
		       (f.outcome = 'error')::int AS er
		FROM model_feedback f
		WHERE f.created_at >= since
		  AND f.created_at < feedback_ceil(since, 60)
		  AND (uid = 0 OR f.user_id = uid)
		UNION ALL
		SELECT r.model_id, r.success_count, r.rate_limited,
		       r.unavailable, r.error
		FROM feedback_rollup r
		WHERE r.user_id = uid AND r.grain = 60
		  AND r.bucket >= feedback_ceil(coalesce(since, '-infinity'), 60)
		  AND r.bucket < feedback_ceil(coalesce(since, '-infinity'), 3600)
		UNION ALL
		SELECT r.model_id, r.success_count, r.rate_limited,
		       r.unavailable, r.error
		FROM feedback_rollup r
		WHERE r.user_id = uid AND r.grain = 3600
		  AND r.bucket >= feedback_ceil(coalesce(since, '-infinity'), 3600)
		  AND r.bucket < feedback_ceil(coalesce(since, '-infinity'), 86400)
		UNION ALL
		SELECT r.model_id, r.success_count, r.rate_limited,
		       r.unavailable, r.error
		FROM feedback_rollup r
		WHERE r.user_id = uid AND r.grain = 86400
		  AND r.bucket >= feedback_ceil(coalesce(since, '-infinity'), 86400)
	) p
	GROUP BY model_id
$$;
