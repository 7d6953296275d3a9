# The workers' least-privilege database role (schema/roles.sql): it can
# read and write the rows the service needs, on today's tables and on
# tables a later migration adds, but it cannot change the schema; the
# script is idempotent; and the real workers and flr-sync run with it.
# The database is set up as README.md's "Deployment" says: a NOLOGIN
# owner role owns the database, and a superuser runs the migrations as
# that role (PGOPTIONS='-c role=flr_owner').
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use FLR::Pg;
use FLR::Stack;

my $pg = FLR::Pg->new(migrate => 0);
my $roles_sql = "$FLR::Pg::REPO/schema/roles.sql";
my $port = $pg->port;
# The cluster asks every role for a password (FLR::Pg): the workers' role
# gets one once roles.sql has made it.
my $api_password = FLR::Pg::new_password();
my $api_url = "postgresql://flr_api:$api_password\@127.0.0.1:$port/flr";
my %as_owner = (PGOPTIONS => '-c role=flr_owner');

# psql_as($url, $sql, %env) -> ($exit_code, $stdout, $stderr); errors
# carry their SQLSTATE (VERBOSITY verbose).
sub psql_as {
	my ($url, $sql, %env) = @_;
	return FLR::Pg::run([ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
	    '-d', $url ], stdin => "\\set VERBOSITY verbose\n$sql",
	    env => FLR::Pg::clean_env(%env), timeout => 60);
}

# --- The owner, and the migrations run as the owner. -----------------------
$pg->psql('CREATE ROLE flr_owner NOLOGIN');
$pg->psql('ALTER DATABASE flr OWNER TO flr_owner');
{
	my ($code, $out, $err) = FLR::Pg::run([ "$FLR::Pg::REPO/schema/migrate",
	    'schema' ], cwd => $FLR::Pg::REPO, env => FLR::Pg::clean_env(
	    DATABASE_URL => $pg->url, %as_owner));
	is($code, 0, 'migrations run as flr_owner') or diag($out, $err);
	is($pg->psql(q{SELECT string_agg(DISTINCT tableowner, ',')
	    FROM pg_tables WHERE schemaname = 'public'}), 'flr_owner',
	    'flr_owner owns every table');
}

sub roles_script {
	my (@vars) = @_;
	return FLR::Pg::run([ 'psql', '-X', '-q', '-At', (map { ('-v', $_) } @vars),
	    '-d', $pg->url, '-f', $roles_sql ], env => FLR::Pg::clean_env(),
	    timeout => 60);
}

# --- The script: once, again, and refused for the owner. ------------------
for my $run (1, 2) {
	my ($code, $out, $err) = roles_script();
	is($code, 0, "roles.sql, run $run, succeeds") or diag($err);
	like($out, qr/flr_api may read and write the rows of database flr \(owner flr_owner\)/,
	    "roles.sql, run $run: says what it did");
}
is($pg->psql(q{SELECT count(*) FROM pg_roles WHERE rolname = 'flr_api'}),
    1, 'one flr_api role');
$pg->psql(q{ALTER ROLE flr_api PASSWORD :'pw'}, { pw => $api_password });
is($pg->psql(q{SELECT concat_ws(',', rolcanlogin, rolsuper, rolcreatedb,
    rolcreaterole, rolreplication, rolbypassrls)
    FROM pg_roles WHERE rolname = 'flr_api'}), 't,f,f,f,f,f',
    'flr_api: LOGIN and no other attribute');
{
	my ($code, undef, $err) = roles_script('api_role=flr_owner');
	isnt($code, 0, 'roles.sql refuses to restrict the owner itself');
	like($err, qr/api_role and owner are the same role/, '... and says why');
}

# --- What the role may do. -------------------------------------------------
my @may = (
	[ 'read every table', join '', map { "SELECT count(*) FROM $_;\n" }
	    qw(users api_keys free_models model_feedback feedback_rollup
	    api_request_logs model_availability_snapshots sync_runs sync_meta
	    schema_migrations) ],
	[ 'insert users and keys', <<'SQL' ],
INSERT INTO users (email) VALUES ('roles@example.com');
INSERT INTO api_keys (user_id, name, key_start, key_hash)
SELECT id, 'k', 'fma_abcd', repeat('a', 43) FROM users
WHERE email = 'roles@example.com';
SQL
	[ 'upsert the catalogue and its availability', <<'SQL' ],
INSERT INTO free_models (id, name) VALUES ('m/one:free', 'One')
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name;
INSERT INTO model_availability_snapshots (model_id, day)
VALUES ('m/one:free', current_date) ON CONFLICT DO NOTHING;
INSERT INTO sync_runs (status) VALUES ('success');
UPDATE sync_meta SET catalog_version = catalog_version + 1,
    last_success_at = now();
SQL
	[ 'report feedback (the rollup trigger runs as the role)', <<'SQL' ],
INSERT INTO model_feedback (model_id, user_id, outcome)
SELECT 'm/one:free', id, 'error' FROM users WHERE email = 'roles@example.com';
SELECT * FROM feedback_counts(now() - interval '1 hour', 0);
SQL
	[ 'count quota and log requests', <<'SQL' ],
UPDATE users SET window_start = now(), window_count = window_count + 1
WHERE email = 'roles@example.com';
INSERT INTO api_request_logs (id, endpoint, status, duration_ms)
VALUES (gen_random_uuid(), '/api/v1/models/ids', 200, 1.5);
SQL
	[ 'delete (retention, key removal)', <<'SQL' ],
DELETE FROM api_request_logs WHERE created_at < now() - interval '30 days';
DELETE FROM api_keys WHERE name = 'k';
SQL
	[ 'take the sync lock', "SELECT pg_try_advisory_lock(7246002);\n" ],
);
for my $t (@may) {
	my ($code, $out, $err) = psql_as($api_url, $t->[1]);
	is($code, 0, "flr_api may $t->[0]") or diag($err);
}

# --- What it may not. ------------------------------------------------------
my @denied = (
	[ 'DROP TABLE', 'DROP TABLE model_feedback' ],
	[ 'ALTER TABLE', 'ALTER TABLE users ADD COLUMN x integer' ],
	[ 'CREATE TABLE', 'CREATE TABLE t53 (x integer)' ],
	[ 'CREATE INDEX', 'CREATE INDEX t53_idx ON users (created_at)' ],
	[ 'CREATE FUNCTION',
	  'CREATE FUNCTION t53() RETURNS int LANGUAGE sql AS $$SELECT 1$$' ],
	[ 'DROP FUNCTION', 'DROP FUNCTION feedback_counts(timestamptz, bigint)' ],
	[ 'CREATE SCHEMA', 'CREATE SCHEMA t53' ],
	[ 'TRUNCATE', 'TRUNCATE api_request_logs' ],
	[ 'become the owner', 'SET ROLE flr_owner' ],
	[ 'write schema_migrations',
	  q{INSERT INTO schema_migrations (version) VALUES ('999_evil')} ],
);
for my $t (@denied) {
	my ($code, undef, $err) = psql_as($api_url, "$t->[1];\n");
	isnt($code, 0, "flr_api may not $t->[0]");
	like($err, qr/\b42501\b|permission denied|must be owner/,
	    "$t->[0]: a permission error") or diag($err);
}
is($pg->psql(q{SELECT count(*) FROM information_schema.columns
    WHERE table_name = 'users' AND column_name = 'x'}), 0,
    'the schema is unchanged');

# --- A later migration, run by the owner, is covered. ----------------------
{
	my ($code, undef, $err) = psql_as($pg->url, 'CREATE TABLE t53_future '
	    . '(id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);',
	    %as_owner);
	is($code, 0, 'the owner adds a table (a later migration)') or diag($err);
}
{
	my ($code, $out, $err) = psql_as($api_url, <<'SQL');
INSERT INTO t53_future (v) VALUES ('a') RETURNING id;
SELECT count(*) FROM t53_future;
SQL
	is($code, 0, 'a table the owner adds later is readable and writable')
	    or diag($err);
	($code, undef, $err) = psql_as($api_url, "DROP TABLE t53_future;\n");
	isnt($code, 0, '... but not droppable');
}
$pg->psql('DROP TABLE t53_future');

# --- The real programs under the role. -------------------------------------
my $s = FLR::Stack->new(workers => 2, database_url => $api_url);
my ($rc, undef, $err) = $s->run_sync(
    url => "file://$FindBin::Bin/fixtures/openrouter-models.json");
is($rc, 0, 'flr-sync runs as flr_api') or diag($err);
is($s->request(GET => '/api/readyz')->{status}, 200,
    'the workers reach the database as flr_api');
my $key = $s->create_key(email => 'worker-role@example.com');
my $res = $s->request(GET => '/api/v1/models/ids?topN=3',
    { headers => { Authorization => "Bearer $key" } });
is($res->{status}, 200, 'a counted request as flr_api')
    or diag($res->{content}, $s->api_log);
my ($model) = $pg->psql('SELECT id FROM free_models WHERE is_active '
    . 'ORDER BY id LIMIT 1');
($res) = $s->json_request(POST => '/api/v1/models/feedback',
    { modelId => $model, success => JSON::PP::true() },
    { Authorization => "Bearer $key" });
is($res->{status}, 200, 'a feedback report as flr_api')
    or diag($res->{content}, $s->api_log);
$s->stop;

done_testing;
