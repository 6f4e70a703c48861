-- Distributing Kizuna's schema with Citus on municipality_code (DESIGN section 8).
--
-- Run once on the coordinator as the administrative role, after `kizuna db upgrade` has
-- created the schema, and before any tenant data is loaded (the test suite runs it so:
-- tests/citus/conftest.py). Tenant tables are distributed and co-located on
-- municipality_code; global tables become reference tables.
--
-- Every foreign key is dropped first and added again at the end. Left in place, the keys
-- that point at a global table make `create_reference_table` turn the referencing tenant
-- tables into Citus local tables, which `create_distributed_table` then has to undo; and
-- the keys are saved by table name, not regclass, since Citus re-creates the tables it
-- converts. `sequential` mode: a table touched over parallel connections in a transaction
-- (re-adding the keys of audit_event) cannot be modified again in it otherwise.

BEGIN;
SET LOCAL citus.multi_shard_modify_mode = 'sequential';

CREATE TEMP TABLE kizuna_foreign_key ON COMMIT DROP AS
SELECT c.conrelid::regclass::text AS table_name, c.conname, pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = 'kizuna'::regnamespace;

DO $$
DECLARE fk record;
BEGIN
    FOR fk IN SELECT * FROM kizuna_foreign_key LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.table_name, fk.conname);
    END LOOP;
END $$;

SELECT create_reference_table(t)
FROM unnest(ARRAY[
    'kizuna.municipality', 'kizuna.organisation', 'kizuna.indicator', 'kizuna.app_user', 'kizuna.trusted_document'
]::regclass[]) AS t;

-- The prefecture's figures (migration 0025): written by kizuna_stats through the
-- coordinator, read by the analysts and supervisors under their policies, never joined with
-- a tenant table.
SELECT create_reference_table(t)
FROM unnest(ARRAY[
    'stats.publication', 'stats.published_count', 'stats.published_table', 'stats.published_median',
    'stats.raw_count', 'stats.raw_median', 'stats.indicator_value'
]::regclass[]) AS t;
-- Every edition of the protected tables (migration 0027), which only the refresh reads.
SELECT create_reference_table('stats.published_edition');

-- Co-located on municipality_code, parents first.
SELECT create_distributed_table('kizuna.household', 'municipality_code');
SELECT create_distributed_table(t, 'municipality_code', colocate_with => 'kizuna.household')
FROM unnest(ARRAY[
    'kizuna.membership', 'kizuna.person', 'kizuna.care_relationship', 'kizuna.carer_case',
    'kizuna.case_event', 'kizuna.case_participant', 'kizuna.assessment', 'kizuna.support_plan',
    'kizuna.approval', 'kizuna.meeting', 'kizuna.meeting_participant', 'kizuna.contact_log',
    'kizuna.referral', 'kizuna.helper_dispatch', 'kizuna.helper_visit', 'kizuna.consent',
    'kizuna.emergency_access', 'kizuna.case_share', 'kizuna.municipality_status', 'kizuna.programme_activity',
    'kizuna.programme_submission',
    'kizuna.audit_event', 'kizuna.audit_seal', 'kizuna.person_merge'
]::regclass[]) AS t;

DO $$
DECLARE fk record;
BEGIN
    FOR fk IN SELECT * FROM kizuna_foreign_key LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.table_name, fk.conname, fk.definition);
    END LOOP;
END $$;

COMMIT;

-- Registering a user (a membership manager's INSERT of `id, issuer, subject` into the
-- reference table app_user) needs two things on Citus (docs/scale-out.md, "Registering a
-- user"). The coordinator writes the column defaults out, so the shards receive
-- `created_at` and `session_epoch` too: the managers may insert those columns. And Citus
-- would first lock the reference table's shard on the first worker, which checks
-- table-level privileges only: Kizuna modifies reference tables through the coordinator
-- alone, so that lock is not needed.
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET citus.allow_modifications_from_workers_to_replicated_tables = off',
                   current_database());
END $$;
GRANT INSERT (created_at, session_epoch) ON kizuna.app_user TO kizuna_supervisor, kizuna_platform_admin;

-- The planner's statistics of the shards just filled, as a bulk load ends: until autovacuum
-- gets to a shard the planner knows no row counts there, and the cases page read and sorted
-- a whole tenant instead of one page along its index (tenants/demo.py). Unqualified, Citus
-- runs it on the coordinator and on every worker.
ANALYZE;
