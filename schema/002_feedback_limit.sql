-- The per-user feedback limit (SPEC.md §3: 600 reports an hour): a
-- fixed one-hour window per user, advanced in the same statement that
-- stores a report, so concurrent posts can never exceed it.
ALTER TABLE users
	ADD COLUMN feedback_window_start timestamptz,
	ADD COLUMN feedback_window_count integer NOT NULL DEFAULT 0;
