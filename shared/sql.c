#include "sql.h"

#include <stddef.h>

/* The SQL reads best as laid out by hand. */
/* clang-format off */

/* Milliseconds since the epoch of a timestamptz expression. */
#define MS(x) "(extract(epoch FROM " x ") * 1000)::bigint"

/*
 * What the ETags of conditional GETs are made of, besides the
 * catalogue (shared/etag.c): the report version (the sum of
 * 008_data_version.sql's counters), the upstream import's version, the
 * time (us since the epoch) of the oldest report still inside a window
 * of the last w seconds (w, a parameter, NULL: all time, no window),
 * the oldest availability day kept, the last fetch of OpenRouter's
 * endpoint statistics, and the oldest upstream bucket still inside the
 * window (imported buckets leave it as time passes, like reports).
 * Each is an index probe or a scan of a small table.
 */
#define DATA_VERSIONS(w)                                                       \
	"(SELECT coalesce(sum(version), 0) FROM report_version)"               \
	"::bigint AS reports,"                                                 \
	" (SELECT version FROM upstream_meta) AS upstream,"                    \
	" (SELECT (extract(epoch FROM min(created_at)) * 1000000)::bigint"     \
	"  FROM model_feedback WHERE " w "::integer IS NOT NULL"               \
	"  AND created_at >= now() - make_interval(secs => " w "::integer))"   \
	" AS oldest_us,"                                                       \
	" (SELECT to_char(min(day), 'YYYY-MM-DD')"                             \
	"  FROM model_availability_snapshots) AS first_day,"                   \
	" (SELECT (extract(epoch FROM max(fetched_at)) * 1000000)::bigint"     \
	"  FROM model_endpoint_stats) AS endpoints_us,"                        \
	" (SELECT (extract(epoch FROM min(bucket)) * 1000000)::bigint"         \
	"  FROM upstream_rollup WHERE " w "::integer IS NOT NULL"              \
	"  AND bucket >= now() - make_interval(secs => " w "::integer))"       \
	" AS oldest_upstream_us"
#define DATA_VERSION_NAMES                                                     \
	"reports,upstream,oldest_us,first_day,endpoints_us,oldest_upstream_us"

/*
 * A counted request, in one round trip: find the key by its hash
 * and, when it is enabled and unexpired, advance its user's fixed
 * quota window atomically.  The row lock of the UPDATE serialises
 * concurrent requests; each re-reads the row it updates, so at most
 * rate_limit_max of them see window_count <= rate_limit_max.  The
 * count stops at rate_limit_max + 1 so refused attempts stay cheap.
 * No row: unknown key.
 */
#define AUTH_COUNTED_WITH                                                      \
	"WITH k AS ("                                                          \
	" SELECT id, user_id, enabled,"                                        \
	"  (expires_at IS NOT NULL AND expires_at <= now()) AS expired,"       \
	"  preferences"                                                        \
	" FROM api_keys WHERE key_hash = $1"                                   \
	"), u AS ("                                                            \
	" UPDATE users u SET"                                                  \
	"  window_start = CASE WHEN u.window_start IS NULL OR now() >="        \
	"   u.window_start + u.rate_limit_window_seconds"                      \
	"   * interval '1 second' THEN now() ELSE u.window_start END,"         \
	"  window_count = CASE WHEN u.window_start IS NULL OR now() >="        \
	"   u.window_start + u.rate_limit_window_seconds"                      \
	"   * interval '1 second' THEN 1"                                      \
	"   ELSE least(u.window_count + 1, u.rate_limit_max + 1) END"          \
	" FROM k WHERE u.id = k.user_id AND k.enabled AND NOT k.expired"       \
	" RETURNING u.id, u.window_start, u.window_count,"                     \
	"  u.rate_limit_max, u.rate_limit_window_seconds"                      \
	") "
/*
 * The sessions commit asynchronously (the request log may lose its
 * last ms), but a counted call is promised: a count lost in a crash
 * after its 200 had left would let the user past rate_limit_max
 * (t/77-fault.t).  This one commits durably (durable).
 */
#define AUTH_COUNTED_SELECT                                                    \
	"SELECT k.id, k.user_id, k.enabled, k.expired,"                        \
	" k.preferences::text AS preferences,"                                 \
	" u.window_count, u.rate_limit_max,"                                   \
	" u.rate_limit_window_seconds AS window_seconds,"                      \
	" " MS("u.window_start") " AS window_start_ms,"                        \
	" m.catalog_version, " MS("m.last_success_at") " AS last_sync_ms,"     \
	" " MS("now()") " AS now_ms,"                                          \
	" set_config('synchronous_commit', 'on', true) AS durable"
#define AUTH_COUNTED_FROM " FROM k LEFT JOIN u ON true CROSS JOIN sync_meta m"
#define AUTH_COUNTED_NAMES                                                     \
	"id,user_id,enabled,expired,preferences,window_count,"                 \
	"rate_limit_max,window_seconds,window_start_ms,catalog_version,"       \
	"last_sync_ms,now_ms,durable"

const struct stmt_def sql_stmts[STMT__MAX] = {
	[STMT_PING] = { "ping", "SELECT 1 AS ok", 0, "ok" },

	/* A counted request (AUTH_COUNTED_WITH). */
	[STMT_AUTH_COUNTED] = { "auth_counted",
	    AUTH_COUNTED_WITH AUTH_COUNTED_SELECT AUTH_COUNTED_FROM,
	    1, AUTH_COUNTED_NAMES },

	/*
	 * The same, and the data versions of a counted listing's ETag for a
	 * window of $2 seconds (see STMT_DATA_VERSIONS), in one statement:
	 * one round trip, one snapshot, before the body is read.
	 */
	[STMT_AUTH_COUNTED_VERSIONS] = { "auth_counted_versions",
	    AUTH_COUNTED_WITH AUTH_COUNTED_SELECT ", " DATA_VERSIONS("$2")
	    AUTH_COUNTED_FROM,
	    2, AUTH_COUNTED_NAMES "," DATA_VERSION_NAMES },

	/* A request that is not counted: the key alone. */
	[STMT_AUTH_KEY] = { "auth_key",
	    "SELECT id, user_id, enabled,"
	    " (expires_at IS NOT NULL AND expires_at <= now()) AS expired,"
	    " preferences::text AS preferences"
	    " FROM api_keys WHERE key_hash = $1",
	    1, "id,user_id,enabled,expired,preferences" },

	/* The whole catalogue, active or not, with its version. */
	[STMT_CATALOG_LOAD] = { "catalog_load",
	    "SELECT f.id, f.name, f.context_length, f.max_completion_tokens,"
	    " f.description, f.modality,"
	    " array_to_json(f.input_modalities)::text AS input_modalities,"
	    " array_to_json(f.output_modalities)::text AS output_modalities,"
	    " array_to_json(f.supported_parameters)::text"
	    "  AS supported_parameters,"
	    " f.is_moderated, f.is_active,"
	    " " MS("f.created_at") " AS created_ms,"
	    " " MS("f.first_seen_at") " AS first_seen_ms,"
	    " " MS("f.last_seen_at") " AS last_seen_ms,"
	    " m.catalog_version, " MS("m.last_success_at") " AS last_sync_ms"
	    " FROM sync_meta m LEFT JOIN free_models f ON true"
	    " ORDER BY f.id",
	    0, "id,name,context_length,max_completion_tokens,description,"
	    "modality,input_modalities,output_modalities,supported_parameters,"
	    "is_moderated,is_active,created_ms,first_seen_ms,last_seen_ms,"
	    "catalog_version,last_sync_ms" },

	/*
	 * Every health source of a window of $1 seconds (NULL: all time),
	 * one row per model and kind, in one round trip:
	 *   local       this instance's report counts (everybody's when
	 *               $2 is 0, else user $2's own);
	 *   upstream    an upstream instance's counts (not for one user);
	 *   rate        the hosted service's error rate for window $3;
	 *   openrouter  OpenRouter's endpoint statistics (a = endpoints,
	 *               x1..x5 = uptime 5m, 30m, 1d, latency, throughput).
	 */
#define SINCE "CASE WHEN $1::integer IS NULL THEN NULL" \
	" ELSE now() - make_interval(secs => $1::integer) END"
	[STMT_HEALTH_SOURCES] = { "health_sources",
	    "SELECT 'local' AS kind, model_id, success_count AS a,"
	    " rate_limited AS b, unavailable AS c, error AS d,"
	    " NULL::float8 AS x1, NULL::float8 AS x2, NULL::float8 AS x3,"
	    " NULL::float8 AS x4, NULL::float8 AS x5, NULL::bigint AS at_ms"
	    " FROM feedback_counts(" SINCE ", $2::bigint)"
	    " UNION ALL"
	    " SELECT 'upstream', model_id, success_count, rate_limited,"
	    " unavailable, error, NULL, NULL, NULL, NULL, NULL, NULL"
	    " FROM upstream_counts(" SINCE ") WHERE $2::bigint = 0"
	    " UNION ALL"
	    " SELECT 'rate', model_id, NULL, NULL, NULL, NULL,"
	    " error_rate::float8, NULL, NULL, NULL, NULL, NULL"
	    " FROM upstream_rates WHERE $2::bigint = 0 AND time_range = $3"
	    " UNION ALL"
	    " SELECT 'openrouter', model_id, endpoints, NULL, NULL, NULL,"
	    " uptime_5m, uptime_30m, uptime_1d, latency_p50_ms,"
	    " throughput_p50, " MS("fetched_at")
	    " FROM model_endpoint_stats",
	    3, "kind,model_id,a,b,c,d,x1,x2,x3,x4,x5,at_ms" },

	/* The upstream and the age of its last good import. */
	[STMT_UPSTREAM_META] = { "upstream_meta",
	    "SELECT url, kind, " MS("last_success_at") " AS last_success_ms,"
	    " last_error, models, " MS("now()") " AS now_ms"
	    " FROM upstream_meta",
	    0, "url,kind,last_success_ms,last_error,models,now_ms" },

	/*
	 * What this instance exports to instances that federate with it:
	 * its own reports (never what it imported), everybody's, as minute
	 * buckets for the last 25 hours, hour buckets for the last 31 days
	 * and day buckets for the last 91 days.
	 */
	[STMT_FEDERATION_EXPORT] = { "federation_export",
	    "SELECT grain, " MS("bucket") " AS bucket_ms, model_id,"
	    " success_count, rate_limited, unavailable, error"
	    " FROM feedback_rollup WHERE user_id = 0"
	    " AND bucket >= now() - CASE grain WHEN 60 THEN interval '25 hours'"
	    "  WHEN 3600 THEN interval '31 days' ELSE interval '91 days' END"
	    " AND success_count + rate_limited + unavailable + error > 0"
	    " ORDER BY grain, bucket, model_id",
	    0, "grain,bucket_ms,model_id,success_count,rate_limited,"
	    "unavailable,error" },

	/*
	 * A batch of request-log rows (shared/reqlog.c), each column an
	 * array, written after the responses have left: the rows, each
	 * dated when its response left ($8: how many microseconds before
	 * now), and their keys' use counters.  The keys are locked in id
	 * order before any is updated, so two batches naming the same keys
	 * queue rather than deadlock.  A row names its key only when the
	 * key is still there, locked (a deletion then waits for the batch,
	 * and its ON DELETE SET NULL clears the rows), and its user only
	 * when the user is: a key deleted while its rows were queued costs
	 * the batch nothing, where its foreign key used to fail all of it.
	 */
	[STMT_REQUEST_LOG] = { "request_log",
	    "WITH r AS ("
	    " SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[],"
	    "  $4::text[], $5::smallint[], $6::real[], $7::text[], $8::bigint[])"
	    "  AS t(id, user_id, api_key_id, endpoint, status, duration_ms,"
	    "  model_ids, age_us)"
	    "), k AS ("
	    " SELECT id FROM api_keys WHERE id IN (SELECT api_key_id FROM r)"
	    " ORDER BY id FOR UPDATE"
	    "), l AS ("
	    " INSERT INTO api_request_logs (id, user_id, api_key_id,"
	    "  endpoint, status, duration_ms, model_ids, created_at)"
	    " SELECT r.id, (SELECT u.id FROM users u WHERE u.id = r.user_id),"
	    "  k.id, endpoint, status, duration_ms, model_ids::text[],"
	    "  now() - age_us * interval '1 microsecond'"
	    " FROM r LEFT JOIN k ON k.id = r.api_key_id"
	    ") UPDATE api_keys a SET last_used_at = now(),"
	    " request_count = a.request_count + c.n"
	    " FROM (SELECT api_key_id, count(*) AS n FROM r GROUP BY 1) c"
	    " WHERE a.id = c.api_key_id AND (SELECT count(*) FROM k) >= 0",
	    8, NULL },

	/*
	 * A feedback report, in one statement: check the key ($1 hash) and
	 * the model ($2), advance the user's one-hour report window (limit
	 * $8) and store the report ($3 id, $4 request id, $5 outcome, $6
	 * details) when $7 (dry run) is false and the window has room.
	 * With an idempotency key ($9, its body's fingerprint $10), a
	 * report the user already stored under that key is returned
	 * instead (prior_id, prior_fingerprint) and nothing is counted or
	 * stored; two first attempts racing each other end in a unique
	 * violation for the later one, whose retry then finds the prior.
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
	    "), prior AS ("
	    " SELECT f.id, f.idempotency_fingerprint FROM model_feedback f, k"
	    " WHERE $9::text IS NOT NULL AND f.user_id = k.user_id"
	    "  AND f.idempotency_key = $9::text"
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
	    "  AND NOT EXISTS (SELECT 1 FROM prior)"
	    " RETURNING u.feedback_window_start, u.feedback_window_count"
	    "), ins AS ("
	    " INSERT INTO model_feedback (id, model_id, user_id, api_key_id,"
	    "  request_id, outcome, details, idempotency_key,"
	    "  idempotency_fingerprint)"
	    " SELECT $3::uuid, m.id, k.user_id, k.id, $4::uuid, $5, $6,"
	    "  $9::text, $10::text"
	    " FROM k, m, u WHERE u.feedback_window_count <= $8::integer"
	    " RETURNING id"
	    ") SELECT k.enabled, k.expired, EXISTS (SELECT 1 FROM m) AS known,"
	    " (SELECT feedback_window_count FROM u) AS window_count,"
	    " (SELECT " MS("feedback_window_start + interval '1 hour'")
	    "  - " MS("now()") " FROM u) AS reset_ms,"
	    " EXISTS (SELECT 1 FROM ins) AS stored,"
	    " (SELECT id FROM prior) AS prior_id,"
	    " (SELECT idempotency_fingerprint FROM prior) AS prior_fingerprint,"
	    " set_config('synchronous_commit', 'on', true) AS durable"
	    " FROM k",
	    10, "enabled,expired,known,window_count,reset_ms,stored,prior_id,"
	    "prior_fingerprint,durable" },

	/*
	 * Report counts per bucket of grain $1 seconds and model, from
	 * bucket $2 (ms since the epoch) on; everybody's when $3 is 0.
	 */
	[STMT_HEALTH_TIMELINE] = { "health_timeline",
	    "SELECT " MS("bucket") " AS bucket_ms, model_id, success_count,"
	    " rate_limited + unavailable + error AS error_count"
	    " FROM feedback_rollup"
	    " WHERE grain = $1::integer AND user_id = $3::bigint"
	    " AND bucket >= to_timestamp($2::bigint / 1000.0)"
	    " ORDER BY bucket, model_id",
	    3, "bucket_ms,model_id,success_count,error_count" },

	/*
	 * The UTC days each model was seen in a sync over the last $1 days
	 * (today included), by model id (in strcmp's order) and day.
	 */
	[STMT_AVAILABILITY] = { "availability",
	    "SELECT s.model_id, to_char(s.day, 'YYYY-MM-DD') AS day"
	    " FROM model_availability_snapshots s"
	    " WHERE s.day > (now() AT TIME ZONE 'UTC')::date - $1::integer"
	    " ORDER BY s.model_id COLLATE \"C\", s.day",
	    1, "model_id,day" },

	/* The catalogue version, the last sync and the server's clock. */
	[STMT_META] = { "meta",
	    "SELECT catalog_version, " MS("last_success_at") " AS last_sync_ms,"
	    " " MS("now()") " AS now_ms"
	    " FROM sync_meta",
	    0, "catalog_version,last_sync_ms,now_ms" },

	/*
	 * The read replica's state (shared/replica.c): in recovery, a WAL
	 * receiver running, and how far replay trails what it received: 0
	 * when it replayed all of it, else the age of the last transaction
	 * replayed (NULL: none since the server started).  A receiver that
	 * has just started reports the start of the segment it streams
	 * from, behind what was replayed already: nothing to replay.
	 */
	[STMT_REPLICA_STATUS] = { "replica_status",
	    "SELECT pg_is_in_recovery() AS in_recovery,"
	    " EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AS streaming,"
	    " CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn()"
	    " THEN 0 ELSE (extract(epoch FROM now() -"
	    " pg_last_xact_replay_timestamp()) * 1000)::bigint END AS lag_ms",
	    0, "in_recovery,streaming,lag_ms" },

	/* The data versions of a window of $1 seconds (DATA_VERSIONS). */
	[STMT_DATA_VERSIONS] = { "data_versions",
	    "SELECT " DATA_VERSIONS("$1"),
	    1, DATA_VERSION_NAMES },

	/*
	 * The gauges of a /metrics scrape: active models, and the age in ms
	 * of the last successful catalogue sync and upstream import (NULL
	 * while there has been none).
	 */
	[STMT_METRICS_GAUGES] = { "metrics_gauges",
	    "SELECT (SELECT count(*) FROM free_models WHERE is_active)"
	    " AS active_models,"
	    " " MS("now()") " - " MS("m.last_success_at") " AS sync_age_ms,"
	    " (SELECT " MS("now()") " - " MS("u.last_success_at")
	    "  FROM upstream_meta u) AS upstream_age_ms"
	    " FROM sync_meta m",
	    0, "active_models,sync_age_ms,upstream_age_ms" },

	/* accounts and operations */

	/*
	 * The keys of user $1, oldest first.  The key columns (KEY_COLUMNS,
	 * named by KEY_COLUMN_NAMES) are shared with STMT_ADMIN_KEY_LIST,
	 * so one reader serves both listings.
	 */
#define KEY_COLUMNS(k)                                                      \
	k "id AS id, " k "name AS name, " k "key_start AS key_start, "      \
	    MS(k "created_at") " AS created_ms, "                           \
	    MS(k "last_used_at") " AS last_used_ms, "                       \
	    MS(k "expires_at") " AS expires_ms, " k "enabled AS enabled, "  \
	    k "request_count AS request_count, (" k "expires_at IS NOT NULL" \
	    " AND " k "expires_at <= now()) AS expired"
#define KEY_COLUMN_NAMES                                                    \
	"id,name,key_start,created_ms,last_used_ms,expires_ms,enabled,"     \
	    "request_count,expired"
	[STMT_KEY_LIST] = { "key_list",
	    "SELECT " KEY_COLUMNS("") " FROM api_keys"
	    " WHERE user_id = $1::bigint ORDER BY created_at, id",
	    1, KEY_COLUMN_NAMES },

	/*
	 * The user with email $1 and its keys, oldest first: one row per
	 * key, or one row with NULL key columns when it has none; no row
	 * when there is no such user.
	 */
	[STMT_ADMIN_KEY_LIST] = { "admin_key_list",
	    "SELECT " KEY_COLUMNS("k.") ", u.id AS user_id,"
	    " u.rate_limit_max AS rate_limit_max"
	    " FROM users u LEFT JOIN api_keys k ON k.user_id = u.id"
	    " WHERE u.email = $1 ORDER BY k.created_at, k.id",
	    1, KEY_COLUMN_NAMES ",user_id,rate_limit_max" },

	/*
	 * Key creation runs in a transaction that first locks the owner's
	 * users row (this, or STMT_USER_UPSERT), so concurrent creations
	 * for one user queue there; STMT_KEY_CREATE then counts with a
	 * fresh snapshot that sees every key committed before the lock was
	 * granted, and the per-user limit cannot be overshot.
	 */
	[STMT_USER_LOCK] = { "user_lock",
	    "SELECT id AS user_id FROM users WHERE id = $1::bigint FOR UPDATE",
	    1, "user_id" },

	/* The user with email $1, created if new, locked either way. */
	[STMT_USER_UPSERT] = { "user_upsert",
	    "INSERT INTO users (email) VALUES ($1)"
	    " ON CONFLICT (email) DO UPDATE SET email = excluded.email"
	    " RETURNING id AS user_id, rate_limit_max AS rate_limit_max",
	    1, "user_id,rate_limit_max" },

	[STMT_USER_SET_LIMIT] = { "user_set_limit",
	    "UPDATE users SET rate_limit_max = $2::integer"
	    " WHERE id = $1::bigint RETURNING rate_limit_max AS rate_limit_max",
	    2, "rate_limit_max" },

	/*
	 * A key for user $1 ($2 name, $3 first characters, $4 hash; $5
	 * days to expiry or NULL) unless the user already holds $6 keys:
	 * then no row.  Every key counts, enabled or not, expired or not.
	 * Key changes are promised to the client: commit durably.
	 */
	[STMT_KEY_CREATE] = { "key_create",
	    "INSERT INTO api_keys (user_id, name, key_start, key_hash,"
	    " expires_at)"
	    " SELECT $1::bigint, $2, $3, $4,"
	    "  now() + make_interval(hours => 24 * $5::integer)"
	    " WHERE (SELECT count(*) FROM api_keys"
	    "  WHERE user_id = $1::bigint) < $6::integer"
	    " RETURNING id AS id, " MS("created_at") " AS created_ms,"
	    " " MS("expires_at") " AS expires_ms,"
	    " set_config('synchronous_commit', 'on', true)"
	    "  AS synchronous_commit",
	    6, "id,created_ms,expires_ms,synchronous_commit" },

	/*
	 * Delete key $1, only if it belongs to user $2 (NULL: anybody's,
	 * for the admin route).  No row: no such key of that user.  Its
	 * reports and request logs stay, with their key set to NULL.
	 */
	[STMT_KEY_DELETE] = { "key_delete",
	    "DELETE FROM api_keys WHERE id = $1::uuid"
	    " AND ($2::bigint IS NULL OR user_id = $2::bigint)"
	    " RETURNING id AS id,"
	    " set_config('synchronous_commit', 'on', true)"
	    "  AS synchronous_commit",
	    2, "id,synchronous_commit" },

	/*
	 * Merge the validated fields $2 (a JSON object) into key $1's
	 * preferences and remove the fields named in $3 (a text[]), in one
	 * atomic step; returns the result.  Stored preferences that are not
	 * an object (edited by hand) are replaced, not appended to.
	 */
	[STMT_PREFS_UPDATE] = { "prefs_update",
	    "UPDATE api_keys SET preferences = (CASE WHEN"
	    "  jsonb_typeof(preferences) = 'object' THEN preferences"
	    "  ELSE '{}' END || $2::jsonb) - $3::text[]"
	    " WHERE id = $1::uuid"
	    " RETURNING preferences::text AS preferences,"
	    " set_config('synchronous_commit', 'on', true)"
	    "  AS synchronous_commit",
	    3, "preferences,synchronous_commit" },

	/*
	 * User $1's quota as it stands (read, never advanced), the
	 * server's clock, and how many entries its history holds.
	 */
	[STMT_USAGE] = { "usage",
	    "SELECT u.rate_limit_max AS rate_limit_max,"
	    " u.rate_limit_window_seconds AS rate_limit_window_seconds,"
	    " " MS("u.window_start") " AS window_start_ms,"
	    " u.window_count AS window_count, " MS("now()") " AS now_ms,"
	    " (SELECT count(*) FROM api_request_logs l"
	    "  WHERE l.user_id = u.id)"
	    " + (SELECT count(*) FROM model_feedback f"
	    "  WHERE f.user_id = u.id) AS history_total"
	    " FROM users u WHERE u.id = $1::bigint",
	    1, "rate_limit_max,rate_limit_window_seconds,window_start_ms,"
	    "window_count,now_ms,history_total" },

	/*
	 * One page of user $1's history, newest first: $2 entries after
	 * the first $3.  Each side is cut to $2 + $3 rows by its own
	 * (user_id, created_at) index before the merge, so a page costs
	 * what it shows plus what precedes it, not the whole history.
	 */
	[STMT_USAGE_HISTORY] = { "usage_history",
	    "SELECT kind AS kind, id AS id, " MS("created_at") " AS created_ms,"
	    " api_key_id AS api_key_id, endpoint AS endpoint, status AS status,"
	    " duration_ms AS duration_ms, model_ids AS model_ids,"
	    " model_id AS model_id, outcome AS outcome, details AS details,"
	    " request_id AS request_id"
	    " FROM ("
	    " (SELECT 'request' AS kind, l.id, l.created_at, l.api_key_id,"
	    "  l.endpoint, l.status, l.duration_ms,"
	    "  array_to_json(l.model_ids)::text AS model_ids,"
	    "  NULL::text AS model_id, NULL::text AS outcome,"
	    "  NULL::text AS details, NULL::uuid AS request_id"
	    "  FROM api_request_logs l WHERE l.user_id = $1::bigint"
	    "  ORDER BY l.created_at DESC, l.id DESC"
	    "  LIMIT $2::integer + $3::integer)"
	    " UNION ALL"
	    " (SELECT 'report', f.id, f.created_at, f.api_key_id, NULL, NULL,"
	    "  NULL, NULL, f.model_id, f.outcome, f.details, f.request_id"
	    "  FROM model_feedback f WHERE f.user_id = $1::bigint"
	    "  ORDER BY f.created_at DESC, f.id DESC"
	    "  LIMIT $2::integer + $3::integer)"
	    ") h ORDER BY created_at DESC, kind, id DESC"
	    " LIMIT $2::integer OFFSET $3::integer",
	    3, "kind,id,created_ms,api_key_id,endpoint,status,duration_ms,"
	    "model_ids,model_id,outcome,details,request_id" },

	/*
	 * The retention cutoffs, fixed once per cleanup by the database's
	 * clock: reports older than $1 days, request logs older than $2
	 * days, availability days wholly before $3 days ago (the UTC day
	 * holding that instant is kept).  Days are 24 h whatever the
	 * session's time zone.  Each as text (passed back unchanged to the
	 * batch statements) and in ms for the report.
	 */
	[STMT_RETENTION_CUTOFFS] = { "retention_cutoffs",
	    "SELECT f::text AS feedback, " MS("f") " AS feedback_ms,"
	    " l::text AS request_logs, " MS("l") " AS request_logs_ms,"
	    " a::text AS availability,"
	    " " MS("a::timestamp AT TIME ZONE 'UTC'") " AS availability_ms"
	    " FROM (SELECT now() - make_interval(hours => 24 * $1::integer)"
	    "   AS f,"
	    "  now() - make_interval(hours => 24 * $2::integer) AS l,"
	    "  ((now() - make_interval(hours => 24 * $3::integer))"
	    "   AT TIME ZONE 'UTC')::date AS a) c",
	    3, "feedback,feedback_ms,request_logs,request_logs_ms,"
	    "availability,availability_ms" },

	/*
	 * The batch deletes pick their rows by index, oldest first, into an
	 * array, and delete by that array: by primary key (id = ANY) or,
	 * where the key has several columns, by row address (ctid = ANY, a
	 * direct fetch).  "IN (SELECT …)" would let the planner hash-join
	 * the whole table on every batch.
	 *
	 * Delete up to $2 of the oldest reports created before $1, and take
	 * them out of the rollup buckets that straddle $1 (buckets wholly
	 * before $1 go later, whole, by STMT_RETENTION_ROLLUP; those after
	 * it never held them).  So the rollup keeps matching the raw rows
	 * exactly, at the cutoff's edge too.  Old buckets are never written
	 * by new reports, so this takes no lock a report insert waits on.
	 * Returns the reports deleted and the bucket rows corrected.
	 */
	[STMT_RETENTION_FEEDBACK] = { "retention_feedback",
	    "WITH d AS ("
	    " DELETE FROM model_feedback WHERE id = ANY (ARRAY ("
	    "  SELECT id FROM model_feedback"
	    "  WHERE created_at < $1::timestamptz"
	    "  ORDER BY created_at LIMIT $2::integer))"
	    " RETURNING created_at, user_id, model_id, outcome"
	    "), part AS ("
	    " SELECT g.grain, feedback_bucket(d.created_at, g.grain) AS bucket,"
	    "  u.uid, d.model_id,"
	    "  count(*) FILTER (WHERE d.outcome = 'success') AS s,"
	    "  count(*) FILTER (WHERE d.outcome = 'rate_limited') AS rl,"
	    "  count(*) FILTER (WHERE d.outcome = 'unavailable') AS un,"
	    "  count(*) FILTER (WHERE d.outcome = 'error') AS er"
	    " FROM d CROSS JOIN unnest(ARRAY[60, 3600, 86400]) AS g (grain)"
	    " CROSS JOIN LATERAL (SELECT 0::bigint UNION ALL"
	    "  SELECT d.user_id WHERE coalesce(d.user_id, 0) <> 0) AS u (uid)"
	    " WHERE feedback_bucket(d.created_at, g.grain)"
	    "  + make_interval(secs => g.grain) > $1::timestamptz"
	    " GROUP BY 1, 2, 3, 4"
	    "), fix AS ("
	    " UPDATE feedback_rollup r SET success_count = r.success_count - p.s,"
	    "  rate_limited = r.rate_limited - p.rl,"
	    "  unavailable = r.unavailable - p.un, error = r.error - p.er"
	    " FROM part p WHERE r.grain = p.grain AND r.user_id = p.uid"
	    "  AND r.bucket = p.bucket AND r.model_id = p.model_id"
	    " RETURNING 1"
	    ") SELECT (SELECT count(*) FROM d) AS deleted,"
	    " (SELECT count(*) FROM fix) AS corrected",
	    2, "deleted,corrected" },

	/*
	 * Delete up to $3 rollup rows of grain $2 whose bucket ends at or
	 * before $1: every report they counted is older than the cutoff.
	 * Oldest first, by feedback_rollup_bucket_idx (003_accounts.sql).
	 */
	[STMT_RETENTION_ROLLUP] = { "retention_rollup",
	    "WITH d AS ("
	    " DELETE FROM feedback_rollup WHERE ctid = ANY (ARRAY ("
	    "  SELECT ctid FROM feedback_rollup"
	    "  WHERE grain = $2::integer"
	    "  AND bucket <= $1::timestamptz - make_interval(secs => $2::integer)"
	    "  ORDER BY bucket LIMIT $3::integer))"
	    " RETURNING 1"
	    ") SELECT count(*) AS deleted FROM d",
	    3, "deleted" },

	/* Up to $2 of the oldest request logs created before $1. */
	[STMT_RETENTION_REQUEST_LOGS] = { "retention_request_logs",
	    "WITH d AS ("
	    " DELETE FROM api_request_logs WHERE id = ANY (ARRAY ("
	    "  SELECT id FROM api_request_logs"
	    "  WHERE created_at < $1::timestamptz"
	    "  ORDER BY created_at LIMIT $2::integer))"
	    " RETURNING 1"
	    ") SELECT count(*) AS deleted FROM d",
	    2, "deleted" },

	/* Up to $2 of the oldest availability days before the date $1. */
	[STMT_RETENTION_AVAILABILITY] = { "retention_availability",
	    "WITH d AS ("
	    " DELETE FROM model_availability_snapshots WHERE ctid = ANY (ARRAY ("
	    "  SELECT ctid FROM model_availability_snapshots"
	    "  WHERE day < $1::date ORDER BY day LIMIT $2::integer))"
	    " RETURNING 1"
	    ") SELECT count(*) AS deleted FROM d",
	    2, "deleted" },

	/* the router */

	/*
	 * The per-user cap on concurrent router calls (schema 009): take
	 * the first free of $2 slots of user $1 (-1: none), and give one
	 * back.  Session-level advisory locks, so a worker that dies frees
	 * its slot with its connection.
	 */
	[STMT_ROUTER_SLOT_TAKE] = { "router_slot_take",
	    "SELECT router_slot_take($1::bigint, $2::integer) AS slot",
	    2, "slot" },
	[STMT_ROUTER_SLOT_RELEASE] = { "router_slot_release",
	    "SELECT pg_advisory_unlock(7246100 + $2::integer,"
	    " ($1::bigint % 2147483647)::integer) AS released",
	    2, "released" },

	/*
	 * One attempt of the router as a report of the calling user ($2,
	 * key $3, the call's request-log id $4): model $1, outcome $5,
	 * details $6, marked as the router's own.  A 429 that named a
	 * Retry-After ($7 seconds, NULL: none) also puts the model last in
	 * every worker's order until then.  Not subject to the hourly
	 * report limit of clients: the service saw this itself, and the
	 * calls it comes from are counted against the daily quota.
	 * Committed durably, as every report is.
	 */
	[STMT_ROUTER_REPORT] = { "router_report",
	    "WITH m AS ("
	    " SELECT id FROM free_models WHERE id = $1"
	    "), c AS ("
	    " INSERT INTO router_cooldowns (model_id, until)"
	    " SELECT id, now() + make_interval(secs => $7::integer) FROM m"
	    " WHERE $7::integer IS NOT NULL"
	    " ON CONFLICT (model_id) DO UPDATE SET until = EXCLUDED.until"
	    " RETURNING model_id"
	    "), ins AS ("
	    " INSERT INTO model_feedback (model_id, user_id, api_key_id,"
	    "  request_id, outcome, details, source)"
	    " SELECT id, $2::bigint, $3::uuid, $4::uuid, $5, $6, 'router'"
	    " FROM m RETURNING id"
	    ") SELECT (SELECT id FROM ins) AS id,"
	    " (SELECT count(*) FROM c) AS cooled,"
	    " set_config('synchronous_commit', 'on', true) AS durable",
	    7, "id,cooled,durable" },

	/* The models that asked the router to wait, until when. */
	[STMT_ROUTER_COOLDOWNS] = { "router_cooldowns",
	    "SELECT c.model_id AS model_id FROM router_cooldowns c"
	    " WHERE c.until > now() ORDER BY c.model_id",
	    0, "model_id" },

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
	    "SELECT pg_try_advisory_lock(" SYNC_LOCK_KEY ") AS locked", 0,
	    "locked" },
	[STMT_SYNC_UNLOCK] = { "sync_unlock",
	    "SELECT pg_advisory_unlock(" SYNC_LOCK_KEY ") AS locked", 0,
	    "locked" },
	[STMT_SYNC_XACT_LOCK] = { "sync_xact_lock",
	    "SELECT pg_try_advisory_xact_lock(" SYNC_LOCK_KEY ") AS locked",
	    0, "locked" },

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
	    ") INSERT INTO sync_runs (status) VALUES ('running')"
	    " RETURNING id AS id",
	    0, "id" },

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
	    ") SELECT (SELECT count(*) FROM src) AS free,"
	    " d.inserted AS inserted, d.updated AS updated,"
	    " (SELECT count(*) FROM gone) AS deactivated, a.active AS active,"
	    " a.missing AS missing,"
	    " a.missing > 0 AND NOT a.may_retire AS skipped,"
	    " (SELECT catalog_version FROM meta) AS catalog_version,"
	    " (SELECT count(*) FROM seen) AS snapshots"
	    " FROM diff d, act a",
	    1, "free,inserted,updated,deactivated,active,missing,skipped,"
	    "catalog_version,snapshots" },

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
	    8, NULL },

	/* OpenRouter's endpoint statistics (flr-sync) */

	/*
	 * The active models to ask about this run, at most $1: those never
	 * asked first, then the least recently asked, so that across runs
	 * every model gets its turn (model_endpoint_attempts, 007).
	 */
	[STMT_ENDPOINT_DUE] = { "endpoint_due",
	    "SELECT f.id AS model_id"
	    " FROM free_models f"
	    " LEFT JOIN model_endpoint_attempts a ON a.model_id = f.id"
	    " WHERE f.is_active"
	    " ORDER BY a.attempted_at NULLS FIRST, f.id COLLATE \"C\""
	    " LIMIT $1::integer",
	    1, "model_id" },

	/*
	 * What one run learnt, from $1: a JSON array with one object per
	 * model asked, {model_id, error} for a failure, else the folded
	 * figures {model_id, endpoints, uptime_5m, uptime_30m, uptime_1d,
	 * latency_p50_ms, throughput_p50, providers} (null: not given).
	 * Every model asked has its attempt recorded; a failure leaves its
	 * statistics and history alone, a success replaces its statistics
	 * and adds a history row.  A model no longer in the catalogue is
	 * skipped.  One row: models recorded, statistics stored, history
	 * rows added.
	 */
	[STMT_ENDPOINT_APPLY] = { "endpoint_apply",
	    "WITH src AS ("
	    " SELECT s.model_id, s.error, s.endpoints, s.uptime_5m,"
	    "  s.uptime_30m, s.uptime_1d, s.latency_p50_ms, s.throughput_p50,"
	    "  coalesce(s.providers, '{}') AS providers"
	    " FROM jsonb_to_recordset($1::jsonb) AS s (model_id text,"
	    "  error text, endpoints integer, uptime_5m float8,"
	    "  uptime_30m float8, uptime_1d float8, latency_p50_ms float8,"
	    "  throughput_p50 float8, providers text[])"
	    " WHERE EXISTS (SELECT 1 FROM free_models f"
	    "  WHERE f.id = s.model_id)"
	    "), att AS ("
	    " INSERT INTO model_endpoint_attempts AS a (model_id,"
	    "  attempted_at, last_error)"
	    " SELECT model_id, now(), error FROM src"
	    " ON CONFLICT (model_id) DO UPDATE"
	    "  SET attempted_at = excluded.attempted_at,"
	    "  last_error = excluded.last_error"
	    " RETURNING a.model_id"
	    "), st AS ("
	    " INSERT INTO model_endpoint_stats AS m (model_id, fetched_at,"
	    "  endpoints, uptime_5m, uptime_30m, uptime_1d, latency_p50_ms,"
	    "  throughput_p50, providers)"
	    " SELECT model_id, now(), endpoints, uptime_5m, uptime_30m,"
	    "  uptime_1d, latency_p50_ms, throughput_p50, providers"
	    " FROM src WHERE error IS NULL"
	    " ON CONFLICT (model_id) DO UPDATE"
	    "  SET fetched_at = excluded.fetched_at,"
	    "  endpoints = excluded.endpoints,"
	    "  uptime_5m = excluded.uptime_5m,"
	    "  uptime_30m = excluded.uptime_30m,"
	    "  uptime_1d = excluded.uptime_1d,"
	    "  latency_p50_ms = excluded.latency_p50_ms,"
	    "  throughput_p50 = excluded.throughput_p50,"
	    "  providers = excluded.providers"
	    " RETURNING m.model_id"
	    "), hist AS ("
	    " INSERT INTO model_endpoint_history (model_id, fetched_at,"
	    "  uptime_30m, latency_p50_ms, throughput_p50)"
	    " SELECT model_id, now(), uptime_30m, latency_p50_ms,"
	    "  throughput_p50"
	    " FROM src WHERE error IS NULL"
	    " ON CONFLICT DO NOTHING"
	    " RETURNING 1"
	    ") SELECT (SELECT count(*) FROM att) AS attempted,"
	    " (SELECT count(*) FROM st) AS stored,"
	    " (SELECT count(*) FROM hist) AS history",
	    1, "attempted,stored,history" },

	/*
	 * Retention of the endpoint history, with the availability
	 * snapshots' cutoff: up to $2 of the oldest rows fetched before
	 * the UTC day $1 (STMT_RETENTION_CUTOFFS' availability date), so
	 * both keep the same days.
	 */
	[STMT_RETENTION_ENDPOINT_HISTORY] = { "retention_endpoint_history",
	    "WITH d AS ("
	    " DELETE FROM model_endpoint_history WHERE ctid = ANY (ARRAY ("
	    "  SELECT ctid FROM model_endpoint_history"
	    "  WHERE fetched_at < $1::date::timestamp AT TIME ZONE 'UTC'"
	    "  ORDER BY fetched_at LIMIT $2::integer))"
	    " RETURNING 1"
	    ") SELECT count(*) AS deleted FROM d",
	    2, "deleted" },

	/* the upstream's import (flr-sync) */

	/*
	 * Until the transaction ends, let each statement run for up to $1
	 * ms: a bulk import of hundreds of thousands of rows needs more
	 * than the connection's statement_timeout allows a request.
	 */
	[STMT_XACT_STATEMENT_TIMEOUT] = { "xact_statement_timeout",
	    "SELECT set_config('statement_timeout', $1::bigint::text, true)"
	    " AS statement_timeout",
	    1, "statement_timeout" },

	/*
	 * A good import replaces what the last one brought, of either kind,
	 * in one transaction with STMT_UPSTREAM_PUT_COUNTS or _RATES: first
	 * every imported row goes.  The rows deleted of each table.
	 */
	[STMT_UPSTREAM_CLEAR] = { "upstream_clear",
	    "WITH c AS (DELETE FROM upstream_rollup RETURNING 1),"
	    " r AS (DELETE FROM upstream_rates RETURNING 1)"
	    " SELECT (SELECT count(*) FROM c) AS rollup,"
	    " (SELECT count(*) FROM r) AS rates",
	    0, "rollup,rates" },

	/*
	 * An instance's export from $1 (its URL): $2 a JSON array of
	 * {g: grain, b: bucket in unix seconds, m: model id, s, r, u, e:
	 * the success, rate-limited, unavailable and error counts}, all
	 * checked by flr-sync.  Records the success in upstream_meta (the
	 * version moves by the trigger of 011_source_versions.sql, once per
	 * transaction).  One row: the new version, models and rows.
	 */
	[STMT_UPSTREAM_PUT_COUNTS] = { "upstream_put_counts",
	    "WITH ins AS ("
	    " INSERT INTO upstream_rollup (grain, bucket, model_id,"
	    "  success_count, rate_limited, unavailable, error)"
	    " SELECT s.g, to_timestamp(s.b), s.m, s.s, s.r, s.u, s.e"
	    " FROM jsonb_to_recordset($2::jsonb) AS s (g integer, b bigint,"
	    "  m text, s integer, r integer, u integer, e integer)"
	    " RETURNING model_id"
	    "), meta AS ("
	    " UPDATE upstream_meta SET url = $1, kind = 'flr',"
	    "  last_success_at = now(), last_attempt_at = now(),"
	    "  last_error = NULL,"
	    "  models = (SELECT count(DISTINCT model_id) FROM ins),"
	    "  rows = (SELECT count(*) FROM ins)"
	    " RETURNING version, models, rows"
	    ") SELECT version AS version, models AS models, rows AS rows"
	    " FROM meta",
	    2, "version,models,rows" },

	/*
	 * The hosted service's rates from $1 (its URL): $2 a JSON array of
	 * {m: model id, w: window, r: error rate in percent}, checked by
	 * flr-sync.  As STMT_UPSTREAM_PUT_COUNTS otherwise.
	 */
	[STMT_UPSTREAM_PUT_RATES] = { "upstream_put_rates",
	    "WITH ins AS ("
	    " INSERT INTO upstream_rates (model_id, time_range, error_rate)"
	    " SELECT s.m, s.w, s.r"
	    " FROM jsonb_to_recordset($2::jsonb) AS s (m text, w text,"
	    "  r numeric)"
	    " RETURNING model_id"
	    "), meta AS ("
	    " UPDATE upstream_meta SET url = $1, kind = 'hosted',"
	    "  last_success_at = now(), last_attempt_at = now(),"
	    "  last_error = NULL,"
	    "  models = (SELECT count(DISTINCT model_id) FROM ins),"
	    "  rows = (SELECT count(*) FROM ins)"
	    " RETURNING version, models, rows"
	    ") SELECT version AS version, models AS models, rows AS rows"
	    " FROM meta",
	    2, "version,models,rows" },

	/*
	 * A failed import changes no data row: only when it was tried and
	 * why it failed ($1, one line).
	 */
	[STMT_UPSTREAM_FAILED] = { "upstream_failed",
	    "UPDATE upstream_meta SET last_attempt_at = now(), last_error = $1",
	    1, NULL },
};
/* clang-format on */
