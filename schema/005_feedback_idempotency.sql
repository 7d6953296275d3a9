-- Idempotency-Key on POST /api/v1/models/feedback: a report remembers the
-- key its client sent and a fingerprint of the body, so a retry after a
-- timeout or a 503 finds the report it already stored instead of storing
-- it twice.  Unique per user; the key lives as long as its report
-- (feedback retention), which is longer than any client retries.
ALTER TABLE model_feedback
	ADD COLUMN idempotency_key text
		CHECK (length(idempotency_key) BETWEEN 1 AND 255),
	ADD COLUMN idempotency_fingerprint text;

CREATE UNIQUE INDEX model_feedback_idempotency_idx
	ON model_feedback (user_id, idempotency_key)
	WHERE idempotency_key IS NOT NULL;
