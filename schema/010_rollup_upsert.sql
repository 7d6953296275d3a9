-- The rollup of a report in one statement instead of six.  The trigger
-- of 001_core.sql upserts the report's minute, hour and day buckets,
-- for everybody (user 0) and for its user, one INSERT ... ON CONFLICT
-- at a time; each is a separate execution from PL/pgSQL.  This one
-- sends the same rows through one INSERT, in the same order (grain,
-- then user 0 before the user), so two reports about one model still
-- take the rows' locks in one order and cannot deadlock.  The counts it
-- leaves are the same.
CREATE OR REPLACE FUNCTION feedback_rollup_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO feedback_rollup AS r (grain, bucket, user_id, model_id,
		success_count, rate_limited, unavailable, error)
	SELECT g.grain, feedback_bucket(NEW.created_at, g.grain), u.uid,
	       NEW.model_id,
	       (NEW.outcome = 'success')::integer,
	       (NEW.outcome = 'rate_limited')::integer,
	       (NEW.outcome = 'unavailable')::integer,
	       (NEW.outcome = 'error')::integer
	FROM (VALUES (60), (3600), (86400)) g (grain)
	CROSS JOIN (SELECT 0::bigint AS uid
	            UNION ALL
	            -- A report without a user is counted once, under 0.
	            SELECT NEW.user_id WHERE coalesce(NEW.user_id, 0) <> 0) u
	ORDER BY g.grain, u.uid = 0 DESC
	ON CONFLICT (grain, user_id, bucket, model_id) DO UPDATE
	SET success_count = r.success_count + excluded.success_count,
	    rate_limited = r.rate_limited + excluded.rate_limited,
	    unavailable = r.unavailable + excluded.unavailable,
	    error = r.error + excluded.error;
	RETURN NULL;
END
$$;
