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

	/*
	 * A feedback report, in one statement: check the key ($1 hash) and
	 * the model ($2), advance the user's one-hour report window (limit
	 * $8) and store the report ($3 id, $4 request id, $5 outcome, $6
	 * details) when $7 (dry run) is false and the window has room.
	 * The API's sessions commit asynchronously; a report is promised
	 * to the client, so this one commits durably.  No row: unknown key.
	 */
	[STMT_FEEDBACK_INSERT] = { "feedback_insert",
	    "WITH k AS ("
	    " SELECT id, user_id, enabled,"
	    "  (expires_at IS NOT NULL AND expires_at <= now()) AS expired"
	    " FROM api_keys WHERE key_hash = $1"
	    "), m AS ("
	    " SELECT id FROM free_models WHERE id = $2"
	    "), u AS ("
	    " UPDATE users u SET"
	    "  feedback_window_start = CASE WHEN u.feedback_window_start IS NULL"
	    "   OR now() >= u.feedback_window_start + interval '1 hour'"
	    "   THEN now() ELSE u.feedback_window_start END,"
	    "  feedback_window_count = CASE WHEN u.feedback_window_start IS NULL"
	    "   OR now() >= u.feedback_window_start + interval '1 hour' THEN 1"
	    "   ELSE least(u.feedback_window_count + 1, $8::integer + 1) END"
	    " FROM k, m WHERE u.id = k.user_id AND k.enabled"
	    "  AND NOT k.expired AND NOT $7::boolean"
	    " RETURNING u.feedback_window_start, u.feedback_window_count"
	    "), ins AS ("
	    " INSERT INTO model_feedback (id, model_id, user_id, api_key_id,"
	    "  request_id, outcome, details)"
	    " SELECT $3::uuid, m.id, k.user_id, k.id, $4::uuid, $5, $6"
	    " FROM k, m, u WHERE u.feedback_window_count <= $8::integer"
	    " RETURNING id"
	    ") SELECT k.enabled, k.expired, EXISTS (SELECT 1 FROM m),"
	    " (SELECT feedback_window_count FROM u),"
	    " (SELECT " MS("feedback_window_start + interval '1 hour'")
	    "  - " MS("now()") " FROM u),"
	    " EXISTS (SELECT 1 FROM ins),"
	    " set_config('synchronous_commit', 'on', true)"
	    " FROM k",
	    8 },

	/*
	 * Report counts per bucket of grain $1 seconds and model, from
	 * bucket $2 (ms since the epoch) on; everybody's when $3 is 0.
	 */
	[STMT_HEALTH_TIMELINE] = { "health_timeline",
	    "SELECT " MS("bucket") ", model_id, success_count,"
	    " rate_limited + unavailable + error"
	    " FROM feedback_rollup"
	    " WHERE grain = $1::integer AND user_id = $3::bigint"
	    " AND bucket >= to_timestamp($2::bigint / 1000.0)"
	    " ORDER BY bucket, model_id",
	    3 },

	/*
	 * The UTC days each model was seen in a sync over the last $1 days
	 * (today included), with the model's name and state.
	 */
	[STMT_AVAILABILITY] = { "availability",
	    "SELECT f.id, f.name, f.is_active,"
	    " array_to_json(array_agg(to_char(s.day, 'YYYY-MM-DD')"
	    "  ORDER BY s.day))::text"
	    " FROM model_availability_snapshots s"
	    " JOIN free_models f ON f.id = s.model_id"
	    " WHERE s.day > (now() AT TIME ZONE 'UTC')::date - $1::integer"
	    " GROUP BY f.id, f.name, f.is_active ORDER BY f.id",
	    1 },

	/* The catalogue version, the last sync and the server's clock. */
	[STMT_META] = { "meta",
	    "SELECT catalog_version, " MS("last_success_at") ", " MS("now()")
	    " FROM sync_meta",
	    0 },

	/* sync statements */

	/*
	 * One sync at a time: a session-level advisory lock held for the
	 * whole run (fetch included), key 7246002 (schema/migrate uses
	 * 7246001).  The transaction that writes the catalogue takes the
	 * same key again at transaction level, so it is covered even if
	 * the connection was lost and remade during the fetch.
	 */
#define SYNC_LOCK_KEY "7246002"
	[STMT_SYNC_LOCK] = { "sync_lock",
	    "SELECT pg_try_advisory_lock(" SYNC_LOCK_KEY ")", 0 },
	[STMT_SYNC_UNLOCK] = { "sync_unlock",
	    "SELECT pg_advisory_unlock(" SYNC_LOCK_KEY ")", 0 },
	[STMT_SYNC_XACT_LOCK] = { "sync_xact_lock",
	    "SELECT pg_try_advisory_xact_lock(" SYNC_LOCK_KEY ")", 0 },

	/*
	 * Open a run's record.  Under the lock no other run can be going
	 * on, so a row still 'running' belongs to a run that died without
	 * recording its end: close it as failed.
	 */
	[STMT_SYNC_RUN_START] = { "sync_run_start",
	    "WITH dead AS ("
	    " UPDATE sync_runs SET status = 'failed',"
	    "  finished_at = clock_timestamp(),"
	    "  error = coalesce(error, 'interrupted before it finished')"
	    " WHERE status = 'running'"
	    ") INSERT INTO sync_runs (status) VALUES ('running') RETURNING id",
	    0 },

	/*
	 * The whole catalogue change in one statement, from $1: a JSON
	 * array of the free models (fields as free_models, "created" in
	 * unix seconds).  Every sub-statement sees the table as it was
	 * before, which is what the counts need:
	 *   diff  new models, and known ones whose fields or active flag
	 *         will change (only those count as updated);
	 *   act   active models now, those missing from $1, and whether
	 *         $1 is big enough (at least half of them) to retire the
	 *         missing ones: a short list is more likely a broken
	 *         upstream than a mass removal;
	 *   up    the upsert: first_seen_at is kept, last_seen_at moves;
	 *   gone  the missing ones, inactive when act allows it;
	 *   seen  one availability row per model per UTC day;
	 *   meta  a new catalogue version only if something changed.
	 * One row: free, inserted, updated, deactivated, active before,
	 * missing, deactivation skipped, catalogue version, snapshots.
	 */
	[STMT_SYNC_APPLY] = { "sync_apply",
	    "WITH src AS ("
	    " SELECT s.id, s.name, s.context_length, s.max_completion_tokens,"
	    "  s.description, s.modality, s.input_modalities,"
	    "  s.output_modalities, s.supported_parameters, s.is_moderated,"
	    "  to_timestamp(s.created) AS created_at"
	    " FROM jsonb_to_recordset($1::jsonb) AS s (id text, name text,"
	    "  created bigint, context_length bigint,"
	    "  max_completion_tokens bigint, description text, modality text,"
	    "  input_modalities text[], output_modalities text[],"
	    "  supported_parameters text[], is_moderated boolean)"
	    "), diff AS ("
	    " SELECT count(*) FILTER (WHERE f.id IS NULL) AS inserted,"
	    "  count(*) FILTER (WHERE f.id IS NOT NULL AND (NOT f.is_active"
	    "   OR (f.name, f.context_length, f.max_completion_tokens,"
	    "   f.description, f.modality, f.input_modalities,"
	    "   f.output_modalities, f.supported_parameters, f.is_moderated,"
	    "   f.created_at) IS DISTINCT FROM (s.name, s.context_length,"
	    "   s.max_completion_tokens, s.description, s.modality,"
	    "   s.input_modalities, s.output_modalities,"
	    "   s.supported_parameters, s.is_moderated, s.created_at)))"
	    "   AS updated"
	    " FROM src s LEFT JOIN free_models f ON f.id = s.id"
	    "), act AS ("
	    " SELECT count(*) AS active,"
	    "  count(*) FILTER (WHERE NOT EXISTS"
	    "   (SELECT 1 FROM src s WHERE s.id = f.id)) AS missing,"
	    "  2 * (SELECT count(*) FROM src) >= count(*) AS may_retire"
	    " FROM free_models f WHERE f.is_active"
	    "), up AS ("
	    " INSERT INTO free_models AS f (id, name, context_length,"
	    "  max_completion_tokens, description, modality,"
	    "  input_modalities, output_modalities, supported_parameters,"
	    "  is_moderated, created_at, is_active, first_seen_at,"
	    "  last_seen_at)"
	    " SELECT s.id, s.name, s.context_length, s.max_completion_tokens,"
	    "  s.description, s.modality, s.input_modalities,"
	    "  s.output_modalities, s.supported_parameters, s.is_moderated,"
	    "  s.created_at, true, now(), now()"
	    " FROM src s"
	    " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
	    "  context_length = excluded.context_length,"
	    "  max_completion_tokens = excluded.max_completion_tokens,"
	    "  description = excluded.description,"
	    "  modality = excluded.modality,"
	    "  input_modalities = excluded.input_modalities,"
	    "  output_modalities = excluded.output_modalities,"
	    "  supported_parameters = excluded.supported_parameters,"
	    "  is_moderated = excluded.is_moderated,"
	    "  created_at = excluded.created_at, is_active = true,"
	    "  last_seen_at = excluded.last_seen_at"
	    " RETURNING f.id"
	    "), gone AS ("
	    " UPDATE free_models f SET is_active = false FROM act"
	    " WHERE act.may_retire AND f.is_active"
	    "  AND NOT EXISTS (SELECT 1 FROM src s WHERE s.id = f.id)"
	    " RETURNING f.id"
	    "), seen AS ("
	    " INSERT INTO model_availability_snapshots AS a (model_id, day,"
	    "  first_seen_at, last_seen_at)"
	    " SELECT up.id, (now() AT TIME ZONE 'UTC')::date, now(), now()"
	    " FROM up"
	    " ON CONFLICT (model_id, day) DO UPDATE"
	    "  SET last_seen_at = excluded.last_seen_at"
	    " RETURNING a.model_id"
	    "), meta AS ("
	    " UPDATE sync_meta m SET catalog_version = m.catalog_version"
	    "  + CASE WHEN d.inserted + d.updated"
	    "   + (SELECT count(*) FROM gone) > 0 THEN 1 ELSE 0 END,"
	    "  last_success_at = clock_timestamp()"
	    " FROM diff d RETURNING m.catalog_version"
	    ") SELECT (SELECT count(*) FROM src), d.inserted, d.updated,"
	    " (SELECT count(*) FROM gone), a.active, a.missing,"
	    " a.missing > 0 AND NOT a.may_retire,"
	    " (SELECT catalog_version FROM meta), (SELECT count(*) FROM seen)"
	    " FROM diff d, act a",
	    1 },

	/*
	 * Close a run's record: $1 id, $2 'success' or 'failed', $3..$7
	 * counts (NULL when unknown), $8 the reason of a failure.
	 */
	[STMT_SYNC_RUN_FINISH] = { "sync_run_finish",
	    "UPDATE sync_runs SET finished_at = clock_timestamp(),"
	    " status = $2, models_total = $3, models_free = $4,"
	    " models_inserted = $5, models_updated = $6,"
	    " models_deactivated = $7, error = $8"
	    " WHERE id = $1",
	    8 },
};
