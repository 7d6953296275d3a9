-- The least-privilege role of the flr-api workers and flr-sync: read and
-- write rows, nothing else.  Not a migration (schema/migrate applies only
-- NNN_name.sql files): roles belong to the whole PostgreSQL cluster, not
-- to one database, and creating them needs a privilege the owner of the
-- tables should not have.  An operator runs it once per database, as a
-- superuser, with psql (re-running it changes nothing):
--
--   sudo -u postgres psql -d flr -f /usr/share/flr/schema/roles.sql
--   (make db-roles does the same with DATABASE_URL)
--
-- psql variables (-v name=value), all optional:
--   api_role  the workers' role, created if missing (flr_api)
--   owner     the role that owns the tables and runs the migrations
--             (the owner of the current database)
--
-- The role gets no password here; give it one with \password if it logs
-- in over TCP, or map the flr system user to it for peer authentication.
-- Migrations keep running as the owner: ALTER DEFAULT PRIVILEGES below
-- gives the workers' role the same rights on every table the owner
-- creates later, so a new migration needs no grant of its own.

\set ON_ERROR_STOP on
\if :{?api_role}
\else
\set api_role flr_api
\endif
\if :{?owner}
\else
SELECT pg_get_userbyid(datdba) AS owner
FROM pg_database WHERE datname = current_database() \gset
\endif

-- The owner must not be the role that is being restricted.
SELECT 'DO $$BEGIN RAISE EXCEPTION ''roles.sql: api_role and owner are '
    'the same role; the workers need a role of their own''; END$$'
WHERE :'api_role' = :'owner'
\gexec

BEGIN;

-- Cluster-wide and idempotent: created only when missing, so several
-- databases in one cluster (or a second run) share it.
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
    'NOREPLICATION NOBYPASSRLS', :'api_role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'api_role')
\gexec

-- The role may change rows only; it must never own what it uses.
SELECT format('ALTER ROLE %I NOSUPERUSER NOCREATEDB NOCREATEROLE '
    'NOREPLICATION NOBYPASSRLS', :'api_role')
\gexec

SELECT format('GRANT CONNECT ON DATABASE %I TO %I',
    current_database(), :'api_role')
\gexec

-- PostgreSQL 15 no longer lets every role create objects in public; an
-- older cluster still does, so take that away here too.  Only the owner
-- creates tables.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"api_role";

-- What exists now ...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public
    TO :"api_role";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public
    TO :"api_role";
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO :"api_role";

-- ... and what the owner's migrations create later.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"api_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"api_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT EXECUTE ON FUNCTIONS TO :"api_role";

-- The migration record is the owner's business: readable, not writable.
SELECT format('REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM %I',
    :'api_role')
WHERE to_regclass('public.schema_migrations') IS NOT NULL
\gexec

COMMIT;

SELECT format('roles: %s may read and write the rows of database %s '
    '(owner %s)', :'api_role', current_database(), :'owner') AS done;
