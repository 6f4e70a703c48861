-- Distributing Kizuna's schema with Citus on municipality_code (DESIGN section 8).
--
-- Run on the coordinator as the administrative role, after `kizuna db upgrade` has
-- created the schema, and before any tenant data is loaded. Tenant tables are
-- distributed and co-located on municipality_code; global tables become reference
-- tables. Foreign keys between tenant tables are dropped first and added again after the
-- distribution, which is what Citus needs for co-located foreign keys.
--
-- Not run by the test suite: this machine has no Citus package. The request path needs
-- no change on Citus (DESIGN section 3): kizuna.begin_request sets the role first, then
-- citus.propagate_set_commands = 'local', then SET LOCAL kizuna.* (never set_config()),
-- no policy holds a sub-select, and every query names its tenant ($1).

BEGIN;

SELECT create_reference_table('kizuna.municipality');
SELECT create_reference_table('kizuna.organisation');
SELECT create_reference_table('kizuna.indicator');
SELECT create_reference_table('kizuna.app_user');

-- Drop the tenant-to-tenant foreign keys (they are re-created below, co-located).
CREATE TEMP TABLE tenant_fk AS
SELECT c.conrelid::regclass AS table_name, c.conname, pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c
WHERE c.contype = 'f'
  AND c.connamespace = 'kizuna'::regnamespace
  AND c.confrelid NOT IN ('kizuna.municipality'::regclass, 'kizuna.organisation'::regclass,
                          'kizuna.indicator'::regclass);

DO $$
DECLARE fk record;
BEGIN
    FOR fk IN SELECT * FROM tenant_fk LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.table_name, fk.conname);
    END LOOP;
END $$;

-- Co-located on municipality_code, parents first.
SELECT create_distributed_table('kizuna.household', 'municipality_code');
SELECT create_distributed_table(t, 'municipality_code', colocate_with => 'kizuna.household')
FROM unnest(ARRAY[
    'kizuna.membership', 'kizuna.person', 'kizuna.care_relationship', 'kizuna.carer_case',
    'kizuna.case_event', 'kizuna.case_participant', 'kizuna.assessment', 'kizuna.support_plan',
    'kizuna.approval', 'kizuna.meeting', 'kizuna.meeting_participant', 'kizuna.contact_log',
    'kizuna.referral', 'kizuna.helper_dispatch', 'kizuna.helper_visit', 'kizuna.consent',
    'kizuna.emergency_access', 'kizuna.municipality_status', 'kizuna.programme_activity',
    'kizuna.audit_event'
]::regclass[]) AS t;

DO $$
DECLARE fk record;
BEGIN
    FOR fk IN SELECT * FROM tenant_fk LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.table_name, fk.conname, fk.definition);
    END LOOP;
END $$;

COMMIT;

-- Roles: on Citus the coordinator connects to the workers as the current role, so the
-- app roles (kizuna_caseworker …) must be LOGIN there. Keep them unreachable directly:
-- the coordinator's pg_hba.conf rejects them, the workers' accepts them only from the
-- coordinator's address, e.g.
--   coordinator:  host all kizuna_caseworker,kizuna_supervisor,... 0.0.0.0/0 reject
--   workers:      host kizuna kizuna_caseworker,... <coordinator-ip>/32 scram-sha-256
