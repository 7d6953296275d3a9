#include "sql.h"

/* Milliseconds since the epoch of a timestamptz expression. */
#define MS(x) "(extract(epoch FROM " x ") * 1000)::bigint"

const struct stmt_def sql_stmts[STMT__MAX] = {
	[STMT_PING] = { "ping", "SELECT 1", 0 },

	/*
	 * A counted request, in one round trip: find the key by its hash
	 * and, when it is enabled and unexpired, advance its user's fixed
	 * quota window atomically.  The row lock of the UPDATE serialises
	 * concurrent requests; each re-reads the row it updates, so at most
	 * rate_limit_max of them see window_count <= rate_limit_max.  The
	 * count stops at rate_limit_max + 1 so refused attempts stay cheap.
	 * No row: unknown key.
	 */
	[STMT_AUTH_COUNTED] = { "auth_counted",
	    "WITH k AS ("
	    " SELECT id, user_id, enabled,"
	    "  (expires_at IS NOT NULL AND expires_at <= now()) AS expired,"
	    "  preferences"
	    " FROM api_keys WHERE key_hash = $1"
	    "), u AS ("
	    " UPDATE users u SET"
	    "  window_start = CASE WHEN u.window_start IS NULL OR now() >="
	    "   u.window_start + u.rate_limit_window_seconds"
	    "   * interval '1 second' THEN now() ELSE u.window_start END,"
	    "  window_count = CASE WHEN u.window_start IS NULL OR now() >="
	    "   u.window_start + u.rate_limit_window_seconds"
	    "   * interval '1 second' THEN 1"
	    "   ELSE least(u.window_count + 1, u.rate_limit_max + 1) END"
	    " FROM k WHERE u.id = k.user_id AND k.enabled AND NOT k.expired"
	    " RETURNING u.id, u.window_start, u.window_count,"
	    "  u.rate_limit_max, u.rate_limit_window_seconds"
	    ") SELECT k.id, k.user_id, k.enabled, k.expired,"
	    " u.window_count, u.rate_limit_max, u.rate_limit_window_seconds,"
	    " " MS("u.window_start") ", k.preferences::text,"
	    " m.catalog_version, " MS("m.last_success_at") ","
	    " " MS("now()")
	    " FROM k LEFT JOIN u ON true CROSS JOIN sync_meta m",
	    1 },

	/* A request that is not counted: the key alone. */
	[STMT_AUTH_KEY] = { "auth_key",
	    "SELECT id, user_id, enabled,"
	    " (expires_at IS NOT NULL AND expires_at <= now()),"
	    " preferences::text"
	    " FROM api_keys WHERE key_hash = $1",
	    1 },

	/* The whole catalogue, active or not, with its version. */
	[STMT_CATALOG_LOAD] = { "catalog_load",
	    "SELECT f.id, f.name, f.context_length, f.max_completion_tokens,"
	    " f.description, f.modality,"
	    " array_to_json(f.input_modalities)::text,"
	    " array_to_json(f.output_modalities)::text,"
	    " array_to_json(f.supported_parameters)::text,"
	    " f.is_moderated, f.is_active,"
	    " " MS("f.created_at") ", " MS("f.first_seen_at") ","
	    " " MS("f.last_seen_at") ","
	    " m.catalog_version, " MS("m.last_success_at")
	    " FROM sync_meta m LEFT JOIN free_models f ON true"
	    " ORDER BY f.id",
	    0 },

	/*
	 * Report counts per model over the last $1 seconds (NULL: all
	 * time), everybody's when $2 is 0, else user $2's own.
	 */
	[STMT_FEEDBACK_COUNTS] = { "feedback_counts",
	    "SELECT model_id, success_count, rate_limited, unavailable, error"
	    " FROM feedback_counts(CASE WHEN $1::integer IS NULL THEN NULL"
	    "  ELSE now() - make_interval(secs => $1::integer) END,"
	    " $2::bigint)",
	    2 },

	/*
	 * The request-log row of a counted call, written after the
	 * response has left, and the key's use counters with it.
	 */
	[STMT_REQUEST_LOG] = { "request_log",
	    "WITH l AS ("
	    " INSERT INTO api_request_logs (id, user_id, api_key_id,"
	    "  endpoint, status, duration_ms, model_ids)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7::text[])"
	    ") UPDATE api_keys SET last_used_at = now(),"
	    " request_count = request_count + 1 WHERE id = $3",
	    7 },

	/* sync statements */
};
