-- The router (flr-router, POST /api/v1/chat/completions) reports every
-- attempt it makes as a report of the calling user.  Such a report is
-- first-hand evidence: the service itself saw the model answer or fail.
-- `source` tells it apart from a report a client sent.
ALTER TABLE model_feedback
	ADD COLUMN source text NOT NULL DEFAULT 'client'
		CHECK (source IN ('client', 'router'));

-- A model that answered 429 with Retry-After is tried last by every
-- router worker until then: one row per model, replaced by the next
-- such answer, so the table never holds more rows than the catalogue.
CREATE TABLE router_cooldowns (
	model_id text PRIMARY KEY REFERENCES free_models (id) ON DELETE CASCADE,
	until timestamptz NOT NULL
);

-- The per-user cap on concurrent router calls: slot s of user u is the
-- session-level advisory lock (7246100 + s, u mod 2^31).  A call takes
-- the first free slot and gives it back when it ends; a worker that dies
-- loses its connection, and PostgreSQL releases its locks with it, so a
-- slot can never leak.  Returns the slot taken, or -1 when all `slots`
-- are held.  The two-key form keeps these apart from the single-key
-- locks of the sync (7246002) and the migrations (7246001).
CREATE FUNCTION router_slot_take(uid bigint, slots integer) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	FOR s IN 0 .. slots - 1 LOOP
		IF pg_try_advisory_lock(7246100 + s, (uid % 2147483647)::integer)
		THEN
			RETURN s;
		END IF;
	END LOOP;
	RETURN -1;
END
$$;
