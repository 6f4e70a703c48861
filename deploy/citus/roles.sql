-- The app roles log in on Citus (DESIGN section 8; docs/scale-out.md, "Roles"), and the
-- application's login sees the shards in the catalog (the end of this file).
--
-- The coordinator opens its connections to the workers as the role that runs the query,
-- so each role `kizuna.begin_request` and `kizuna.begin_sign_in` switch to must be able to
-- log in on the workers. Run on the coordinator as the administrative role after the first
-- `kizuna db upgrade` (running it again changes nothing): Citus propagates ALTER ROLE to the
-- workers, and migrations create these roles NOLOGIN but never reset one that exists
-- (docs/scale-out.md, finding 7). pg_hba.conf keeps them from logging in from anywhere else:
-- the coordinator rejects them, the workers accept them only from the coordinator.

ALTER ROLE kizuna_caseworker LOGIN;
ALTER ROLE kizuna_supervisor LOGIN;
ALTER ROLE kizuna_coordinator LOGIN;
ALTER ROLE kizuna_school_staff LOGIN;
ALTER ROLE kizuna_school_social_worker LOGIN;
ALTER ROLE kizuna_welfare_worker LOGIN;
ALTER ROLE kizuna_municipal_system LOGIN;
ALTER ROLE kizuna_prefecture_analyst LOGIN;
ALTER ROLE kizuna_platform_admin LOGIN;
ALTER ROLE kizuna_directory LOGIN;
-- The audit sealer (migration 0014): the administrative connection switches to it, and the
-- coordinator then reaches the shards of the audit log as it.
ALTER ROLE kizuna_auditor LOGIN;
-- The stats refresh (migration 0025): the same, for every tenant's shards and the stats
-- reference tables.
ALTER ROLE kizuna_stats LOGIN;

-- The application's login is shown Citus's shards in pg_class. asyncpg looks up each type
-- it has no codec for (Kizuna's enums) once per connection, in a query that reads pg_class
-- once per composite type; Citus hides shards from pg_class by calling
-- relation_is_a_known_shard() on every row, which made that lookup take 1.3 s at the first
-- request of each new pooled connection (docs/scale-out.md, finding 8). Seeing a shard's
-- name in the catalog grants nothing on it. A login setting, not a connection parameter,
-- so that PgBouncer in between passes it on.
DO $$ BEGIN
    EXECUTE format('ALTER ROLE kizuna_app IN DATABASE %I SET citus.show_shards_for_app_name_prefixes = %L',
                   current_database(), '*');
END $$;
