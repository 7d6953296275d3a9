/*
 * The statement table (shared/sql.c) as far as it can be checked
 * without a database.  Every column list is well formed: names of
 * lowercase letters, digits and underscores, separated by single
 * commas, none empty or repeated.  And the statements whose readers
 * index their result by an enum have a list, each name of which the
 * SQL gives with "AS name".  That the database describes exactly
 * these columns is checked by db_ready() on every connection, so by
 * every end-to-end test; this finds a slip before one is started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sql.h"
#include "util.h"

#define NAME_MAX_LEN 63 /* PostgreSQL's NAMEDATALEN - 1 */

static const enum stmt typed[] = {
	STMT_PING,
	STMT_DATA_VERSIONS,
	STMT_METRICS_GAUGES,
	STMT_REPLICA_STATUS,
	STMT_KEY_LIST,
	STMT_ADMIN_KEY_LIST,
	STMT_USER_LOCK,
	STMT_USER_UPSERT,
	STMT_USER_SET_LIMIT,
	STMT_KEY_CREATE,
	STMT_KEY_DELETE,
	STMT_PREFS_UPDATE,
	STMT_USAGE,
	STMT_USAGE_HISTORY,
	STMT_RETENTION_CUTOFFS,
	STMT_RETENTION_FEEDBACK,
	STMT_RETENTION_ROLLUP,
	STMT_RETENTION_REQUEST_LOGS,
	STMT_RETENTION_AVAILABILITY,
	STMT_ROUTER_SLOT_TAKE,
	STMT_ROUTER_SLOT_RELEASE,
	STMT_ROUTER_REPORT,
	STMT_ROUTER_COOLDOWNS,
	STMT_SYNC_LOCK,
	STMT_SYNC_UNLOCK,
	STMT_SYNC_XACT_LOCK,
	STMT_SYNC_RUN_START,
	STMT_SYNC_APPLY,
	STMT_ENDPOINT_DUE,
	STMT_ENDPOINT_APPLY,
	STMT_RETENTION_ENDPOINT_HISTORY,
	STMT_XACT_STATEMENT_TIMEOUT,
	STMT_UPSTREAM_CLEAR,
	STMT_UPSTREAM_PUT_COUNTS,
	STMT_UPSTREAM_PUT_RATES,
};

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * Split list into names[] (each NUL-terminated, NAME_MAX_LEN at most);
 * the number of names, or -1 when a name is empty, too long or holds
 * anything but name characters.
 */
static int
split(const char *list, char names[][NAME_MAX_LEN + 1], int max)
{
	int n = 0;

	for (;;) {
		size_t len = strcspn(list, ",");
		size_t i;

		if (len == 0 || len > NAME_MAX_LEN || n == max)
			return -1;
		for (i = 0; i < len; i++)
			if (!name_char(list[i]))
				return -1;
		memcpy(names[n], list, len);
		names[n++][len] = '\0';
		if (list[len] == '\0')
			return n;
		list += len + 1;
	}
}

/* 1 when sql holds "AS name" with no name character after it. */
static int
aliased(const char *sql, const char *name)
{
	char want[NAME_MAX_LEN + 4];
	const char *p = sql;
	size_t n;

	snprintf(want, sizeof(want), "AS %s", name);
	n = strlen(want);
	while ((p = strstr(p, want)) != NULL) {
		if (p > sql && p[-1] == ' ' && !name_char(p[n]))
			return 1;
		p += n;
	}
	return 0;
}

static void
test_lists_well_formed(void **state)
{
	char names[64][NAME_MAX_LEN + 1];
	int s, i, j, n;

	(void)state;
	for (s = 0; s < STMT__MAX; s++) {
		const struct stmt_def *d = &sql_stmts[s];

		if (d->columns == NULL)
			continue;
		n = split(d->columns, names, (int)NELEM(names));
		if (n < 0)
			fail_msg("%s: malformed columns \"%s\"", d->name,
			    d->columns);
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (strcmp(names[i], names[j]) == 0)
					fail_msg("%s: column %s twice", d->name,
					    names[i]);
	}
}

static void
test_typed_statements_aliased(void **state)
{
	char names[64][NAME_MAX_LEN + 1];
	size_t k;
	int i, n;

	(void)state;
	for (k = 0; k < NELEM(typed); k++) {
		const struct stmt_def *d = &sql_stmts[typed[k]];

		if (d->columns == NULL)
			fail_msg("%s: no column list", d->name);
		n = split(d->columns, names, (int)NELEM(names));
		assert_true(n > 0);
		for (i = 0; i < n; i++)
			if (!aliased(d->sql, names[i]))
				fail_msg("%s: no \"AS %s\" in its SQL", d->name,
				    names[i]);
	}
}

/* The checker itself, on lists it must refuse and SQL it must read. */
static void
test_checker(void **state)
{
	static const char *const bad[] = { "", ",", "a,", ",a", "a,,b",
		"a, b", "A", "a-b", "?column?",
		"a234567890123456789012345678901234567890123456789012345678901234" };
	char names[4][NAME_MAX_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++)
		if (split(bad[i], names, 4) != -1)
			fail_msg("list \"%s\" accepted", bad[i]);
	assert_int_equal(split("a,b_2,c", names, 4), 3);
	assert_string_equal(names[1], "b_2");
	assert_int_equal(split("a,b,c,d,e", names, 4), -1);
	assert_true(aliased("SELECT x AS id, y AS user_id", "user_id"));
	assert_true(aliased("SELECT x AS id, y AS user_id", "id"));
	assert_false(aliased("SELECT x AS user_id", "user"));
	assert_false(aliased("SELECT x AS user_id", "id"));
	assert_false(aliased("SELECT x ALIAS id", "id"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_lists_well_formed),
		cmocka_unit_test(test_typed_statements_aliased),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
