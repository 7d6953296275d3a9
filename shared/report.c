#include "report.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

static int
field_error(struct report_error *err, const char *field, const char *detail)
{
	err->field = field;
	err->detail = detail;
	return -1;
}

static int
read_outcome(
    struct json_object *body, struct report *rep, struct report_error *err)
{
	static const char *issues[] = { "rate_limited", "unavailable",
		"error" };
	static const char one_of[] =
	    "issue must be one of: rate_limited, unavailable, error";
	const char *issue;
	int e, success;
	size_t i;

	success = json_get_bool(body, "success", &e);
	if (e)
		return field_error(err, "success", "success must be a boolean");
	issue = json_get_string(body, "issue", &e);
	if (e)
		return field_error(err, "issue", one_of);
	if (success == 1 && issue != NULL)
		return field_error(err, "issue",
		    "give either success: true or an issue, not both");
	if (success == 1) {
		rep->outcome = "success";
		return 0;
	}
	if (issue == NULL)
		return field_error(err, "success",
		    "give success: true or an issue (rate_limited, "
		    "unavailable, error)");
	for (i = 0; i < NELEM(issues); i++)
		if (strcmp(issue, issues[i]) == 0) {
			rep->outcome = issues[i];
			return 0;
		}
	return field_error(err, "issue", one_of);
}

/* The first max characters of UTF-8 s, in arena a. */
static const char *
utf8_first_chars(const char *s, size_t max, struct arena *a)
{
	size_t i, chars = 0;

	for (i = 0; s[i] != '\0'; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && chars++ == max)
			break;
	return arena_strndup(a, s, i);
}

/* details and requestId: refused when strict, else cut or dropped. */
static int
read_auxiliary(struct json_object *body, int strict, struct arena *a,
    struct report *rep, struct param_adjustments *adj, struct report_error *err)
{
	char count[32];
	int e;

	rep->details = json_get_string(body, "details", &e);
	if (e)
		return field_error(err, "details",
		    "details must be a string of at most 1000 characters");
	if (rep->details != NULL &&
	    utf8_length(rep->details) > REPORT_DETAILS_MAX) {
		if (strict)
			return field_error(err, "details",
			    "details must be a string of at most 1000 "
			    "characters");
		snprintf(count, sizeof(count), "%zu characters",
		    utf8_length(rep->details));
		rep->details =
		    utf8_first_chars(rep->details, REPORT_DETAILS_MAX, a);
		param_adjust(adj, "details", arena_strdup(a, count),
		    "1000 characters", RULE_CUT);
	}
	rep->request_id = json_get_string(body, "requestId", &e);
	if (e || (rep->request_id != NULL && !uuid_valid(rep->request_id))) {
		if (strict)
			return field_error(
			    err, "requestId", "requestId must be a UUID");
		param_adjust(adj, "requestId",
		    e ? "(not a string)" : rep->request_id, NULL, RULE_DROPPED);
		rep->request_id = NULL;
	}
	return 0;
}

int
report_read(struct json_object *body, int strict, struct arena *a,
    struct report *rep, struct param_adjustments *adj, struct report_error *err)
{
	int e, dry;

	memset(rep, 0, sizeof(*rep));
	rep->model_id = json_get_string(body, "modelId", &e);
	if (e || rep->model_id == NULL || rep->model_id[0] == '\0')
		return field_error(
		    err, "modelId", "modelId must be a non-empty string");
	if (strlen(rep->model_id) > REPORT_MODEL_ID_MAX)
		return field_error(
		    err, "modelId", "modelId must be at most 256 bytes");
	if (read_outcome(body, rep, err) != 0 ||
	    read_auxiliary(body, strict, a, rep, adj, err) != 0)
		return -1;
	dry = json_get_bool(body, "dryRun", &e);
	if (e)
		return field_error(err, "dryRun", "dryRun must be a boolean");
	rep->dry_run = dry == 1;
	return 0;
}

int
report_idempotency_key(const char *h, char out[IDEMPOTENCY_KEY_MAX + 1])
{
	size_t len = strlen(h), i;

	if (len >= 2 && h[0] == '"' && h[len - 1] == '"') {
		h++;
		len -= 2;
	}
	if (len == 0 || len > IDEMPOTENCY_KEY_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (h[i] < 0x21 || h[i] > 0x7e || h[i] == '"' || h[i] == '\\')
			return -1;
	memcpy(out, h, len);
	out[len] = '\0';
	return 0;
}

/* Columns of STMT_FEEDBACK_INSERT. */
enum {
	F_ENABLED,
	F_EXPIRED,
	F_KNOWN,
	F_COUNT,
	F_RESET_MS,
	F_STORED,
	F_PRIOR_ID,
	F_PRIOR_FINGERPRINT
};

/* The outcome of the statement's one row, for a valid key. */
static void
read_result(const PGresult *r, const struct report *rep,
    const char *fingerprint, struct report_result *out)
{
	long long wait;

	if (!db_get_bool(r, 0, F_KNOWN, 0)) {
		out->outcome = REPORT_UNKNOWN_MODEL;
	} else if (!PQgetisnull(r, 0, F_PRIOR_ID)) {
		const char *fp = db_get_str(r, 0, F_PRIOR_FINGERPRINT);

		out->outcome = fp != NULL && strcmp(fp, fingerprint) == 0
		    ? REPORT_REPLAYED
		    : REPORT_KEY_REUSED;
		snprintf(out->id, sizeof(out->id), "%s",
		    PQgetvalue(r, 0, F_PRIOR_ID));
	} else if (rep->dry_run) {
		out->outcome = REPORT_DRY_RUN;
	} else if (!db_get_bool(r, 0, F_STORED, 0)) {
		wait = (db_get_ll(r, 0, F_RESET_MS, 0) + 999) / 1000;
		out->outcome = REPORT_RATE_LIMITED;
		out->retry_after = wait < 1 ? 1 : wait;
	}
}

/* One run of the statement; DB_CONFLICT when a racing retry won. */
static enum db_status
store_once(struct db *db, const char *hash, const struct report *rep,
    const char *limit, const char *idem_key, const char *fingerprint,
    struct report_result *out)
{
	const char *params[10];
	enum db_status st;
	PGresult *r;

	params[0] = hash;
	params[1] = rep->model_id;
	params[2] = out->id;
	params[3] = rep->request_id;
	params[4] = rep->outcome;
	params[5] = rep->details;
	params[6] = rep->dry_run ? "true" : "false";
	params[7] = limit;
	params[8] = idem_key;
	params[9] = idem_key != NULL ? fingerprint : NULL;
	r = db_exec(db, STMT_FEEDBACK_INSERT, params, 10, &st);
	if (r == NULL)
		return st;
	out->outcome = REPORT_STORED;
	out->verdict = key_verdict_of(PQntuples(r) == 1,
	    PQntuples(r) == 1 && db_get_bool(r, 0, F_ENABLED, 0),
	    PQntuples(r) == 1 && db_get_bool(r, 0, F_EXPIRED, 0));
	if (out->verdict != VERDICT_VALID)
		out->outcome = REPORT_KEY_REFUSED;
	else
		read_result(r, rep, fingerprint, out);
	PQclear(r);
	return DB_OK;
}

enum db_status
report_store(struct db *db, struct key_memory *m, const char *addr,
    const char *token, const struct report *rep, int limit,
    const char *idem_key, const char *fingerprint, struct report_result *out)
{
	char hash[AUTH_HASH_LEN + 1], lim[16];
	enum db_status st;

	memset(out, 0, sizeof(*out));
	if (key_screen(
	        m, addr, token, hash, &out->verdict, &out->retry_after)) {
		out->outcome = REPORT_KEY_REFUSED;
		return DB_OK;
	}
	if (uuid_v4(out->id) != 0)
		return DB_ERROR;
	snprintf(lim, sizeof(lim), "%d", limit);
	st = store_once(db, hash, rep, lim, idem_key, fingerprint, out);
	/* A concurrent first attempt with the same key won: replay it. */
	if (st == DB_CONFLICT && idem_key != NULL)
		st = store_once(db, hash, rep, lim, idem_key, fingerprint, out);
	if (st == DB_OK)
		key_learn(m, addr, hash, out->verdict);
	return st == DB_CONFLICT ? DB_ERROR : st;
}
