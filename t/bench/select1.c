/*
 * The benchmark's ceiling for a counted request: a FastCGI worker that
 * answers every request after one prepared "SELECT 1" on its own
 * PostgreSQL connection.  Nothing else: no routing, no JSON, no auth.
 * Configured by DATABASE_URL; run by spawn-fcgi like flr-api.
 */
#include <stdio.h>
#include <stdlib.h>

#include <fcgiapp.h>
#include <libpq-fe.h>

int
main(void)
{
	static const char body[] = "{\"ok\":true}";
	const char *url = getenv("DATABASE_URL");
	FCGX_Request fr;
	PGconn *conn;
	PGresult *r;

	if (url == NULL) {
		fputs("select1: DATABASE_URL: not set\n", stderr);
		return 2;
	}
	conn = PQconnectdb(url);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "select1: %s", PQerrorMessage(conn));
		return 1;
	}
	r = PQprepare(conn, "one", "SELECT 1", 0, NULL);
	PQclear(r);
	FCGX_Init();
	FCGX_InitRequest(&fr, 0, 0);
	while (FCGX_Accept_r(&fr) >= 0) {
		int ok;

		r = PQexecPrepared(conn, "one", 0, NULL, NULL, NULL, 0);
		ok = PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
		FCGX_FPrintF(fr.out, "Status: %s\r\nContent-Type: "
		    "application/json\r\n\r\n", ok ? "200 OK" : "503 Unavailable");
		FCGX_PutStr(body, (int)sizeof(body) - 1, fr.out);
		FCGX_Finish_r(&fr);
	}
	PQfinish(conn);
	return 0;
}
