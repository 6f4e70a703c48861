"""Roles, the request functions and row security (DESIGN section 3).

- `kizuna_app` is the only login role of the request path: NOINHERIT, no superuser, no
  BYPASSRLS, owns nothing. As itself it reads no table; the application's requests reach
  data only after `kizuna.begin_request` has switched the transaction to the NOLOGIN role
  of the request's app role. It is a member of every app role, though, so whoever can run
  SQL as it can `SET ROLE` and set `kizuna.*` without `begin_request` and read any tenant:
  its credentials are the key to every tenant (docs/security-model.md, "The application's
  login"; this paragraph was corrected after the fact, the migration is unchanged).
- `kizuna.begin_request` is the one way to set the tenant: `SET LOCAL` through EXECUTE
  (never `set_config()`, which Citus does not propagate), the role first, then
  `citus.propagate_set_commands`, then the context. It then requires an active membership.
- Every tenant table has ENABLE + FORCE row level security and a policy on
  `kizuna.current_municipality()`, with no sub-select (Citus refuses those). Narrower
  rules are restrictive policies and column grants.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies: migrations do not import the application's code.
APP_ROLES = (
    "caseworker",
    "supervisor",
    "coordinator",
    "school_staff",
    "school_social_worker",
    "welfare_worker",
    "municipal_system",
    "prefecture_analyst",
    "platform_admin",
)
TENANT_TABLES = (
    "membership",
    "household",
    "person",
    "care_relationship",
    "carer_case",
    "case_event",
    "case_participant",
    "assessment",
    "support_plan",
    "approval",
    "meeting",
    "meeting_participant",
    "contact_log",
    "referral",
    "helper_dispatch",
    "helper_visit",
    "consent",
    "emergency_access",
    "municipality_status",
    "programme_activity",
    "audit_event",
)
GLOBAL_TABLES = ("municipality", "organisation", "indicator")
STAFF = ("kizuna_caseworker", "kizuna_supervisor", "kizuna_coordinator")
REFERRERS = ("kizuna_school_staff", "kizuna_school_social_worker", "kizuna_welfare_worker")
CASE_DATA = tuple(t for t in TENANT_TABLES if t not in ("membership", "audit_event", "case_event"))
DELETABLE = ("care_relationship", "case_participant", "meeting_participant")
# What a referrer may see of its own referrals: their status, never the person or the case.
REFERRER_COLUMNS = (
    "municipality_code, id, source, referrer_organisation_id, referrer_subject,"
    " child_display_name, noticed, urgency, status, received_at, decided_at"
)
REFERRER_INSERT_COLUMNS = (
    "municipality_code, id, source, referrer_organisation_id, referrer_subject,"
    " child_display_name, noticed, urgency, status, received_at"
)

# One statement each: asyncpg prepares every statement, and a prepared statement holds one.
FUNCTIONS = (
    """
CREATE FUNCTION kizuna.current_municipality() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('kizuna.municipality', true), '') $$;
""",
    """
CREATE FUNCTION kizuna.current_subject() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('kizuna.subject', true), '') $$;
""",
    """
CREATE FUNCTION kizuna.current_organisation() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('kizuna.organisation', true), '')::uuid $$;
""",
    """
CREATE FUNCTION kizuna.current_app_role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('kizuna.app_role', true), '') $$;
""",
    """
CREATE FUNCTION kizuna.begin_request(
    p_role text, p_municipality text, p_user text, p_organisation text
) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
BEGIN
    IF p_role IS NULL OR NOT (p_role = ANY (ARRAY[%(roles)s])) THEN
        RAISE EXCEPTION 'unknown app role' USING ERRCODE = '28000';
    END IF;
    IF p_municipality IS NULL OR p_municipality !~ '^[0-9]{6}$' THEN
        RAISE EXCEPTION 'invalid municipality code' USING ERRCODE = '22023';
    END IF;
    IF p_user IS NULL OR p_user = '' THEN
        RAISE EXCEPTION 'no user' USING ERRCODE = '28000';
    END IF;
    IF p_organisation IS NULL
       OR p_organisation !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RAISE EXCEPTION 'invalid organisation id' USING ERRCODE = '22023';
    END IF;
    -- Once per transaction: a second call could otherwise switch tenants mid-request.
    IF COALESCE(current_setting('kizuna.municipality', true), '') <> '' THEN
        RAISE EXCEPTION 'request context already set in this transaction' USING ERRCODE = '25001';
    END IF;
    -- The role first: set after the propagation setting, Citus would replay it on every
    -- worker connection and break the stats functions.
    EXECUTE format('SET LOCAL ROLE %I', 'kizuna_' || p_role);
    SET LOCAL citus.propagate_set_commands = 'local';
    EXECUTE format('SET LOCAL kizuna.municipality = %L', p_municipality);
    EXECUTE format('SET LOCAL kizuna.subject = %L', p_user);
    EXECUTE format('SET LOCAL kizuna.organisation = %L', p_organisation);
    EXECUTE format('SET LOCAL kizuna.app_role = %L', p_role);
    -- Runs as the app role, under row security: only this tenant's memberships are visible.
    PERFORM 1 FROM kizuna.membership m
     WHERE m.municipality_code = p_municipality
       AND m.subject = p_user
       AND m.role = p_role::kizuna.app_role
       AND m.organisation_id = p_organisation::uuid
       AND m.revoked_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no active membership for this tenant, role and organisation'
            USING ERRCODE = '28000';
    END IF;
END
$$;
""",
)


def upgrade() -> None:
    roles = [f"kizuna_{r}" for r in APP_ROLES]
    role_list = ", ".join(roles)
    # Roles are cluster-wide: several databases (the tests' among them) share them.
    op.execute(
        "DO $$ BEGIN\n"
        "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kizuna_app') THEN\n"
        "  CREATE ROLE kizuna_app LOGIN NOINHERIT;\n"
        "END IF;\n"
        + "".join(
            f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN\n"
            f"  CREATE ROLE {role} NOLOGIN;\n"
            "END IF;\n"
            for role in roles
        )
        + "END $$"
    )
    op.execute("ALTER ROLE kizuna_app NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION NOINHERIT")
    for role in roles:
        # NOLOGIN only where the role is created (above): roles belong to the server, and a
        # Citus cluster makes them LOGIN for its workers, which migrating another database
        # must not undo (corrected after the fact; docs/scale-out.md, finding 7).
        op.execute(f"ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS")
        op.execute(f"GRANT {role} TO kizuna_app")
    op.execute("DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO kizuna_app', current_database()); END $$")
    op.execute(f"GRANT USAGE ON SCHEMA kizuna TO kizuna_app, {role_list}")
    op.execute("GRANT SELECT ON public.alembic_version TO kizuna_app")

    roles_array = ", ".join(f"'{r}'" for r in APP_ROLES)
    for statement in FUNCTIONS:
        op.execute(statement.replace("%(roles)s", roles_array))
    op.execute("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA kizuna FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION kizuna.begin_request(text, text, text, text) TO kizuna_app")
    for fn in ("current_municipality", "current_subject", "current_organisation", "current_app_role"):
        op.execute(f"GRANT EXECUTE ON FUNCTION kizuna.{fn}() TO {role_list}")

    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE kizuna.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE kizuna.{table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON kizuna.{table}"
            " USING (municipality_code = kizuna.current_municipality())"
            " WITH CHECK (municipality_code = kizuna.current_municipality())"
        )

    # Global tables: readable by every app role; the directory is kept by platform admins.
    for table in GLOBAL_TABLES:
        op.execute(f"GRANT SELECT ON kizuna.{table} TO {role_list}")
    op.execute("GRANT INSERT, UPDATE ON kizuna.organisation TO kizuna_platform_admin")

    # Municipal staff work the cases of their tenant.
    staff = ", ".join(STAFF)
    for table in CASE_DATA:
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON kizuna.{table} TO {staff}")
    for table in DELETABLE:
        op.execute(f"GRANT DELETE ON kizuna.{table} TO {staff}")
    op.execute(f"GRANT SELECT, INSERT ON kizuna.case_event TO {staff}")  # append-only

    # Municipal systems read (and later sync) their own municipality's data.
    for table in (*CASE_DATA, "case_event"):
        op.execute(f"GRANT SELECT ON kizuna.{table} TO kizuna_municipal_system")

    # Schools and agencies: their own organisation's referrals, status only.
    referrers = ", ".join(REFERRERS)
    op.execute(f"GRANT SELECT ({REFERRER_COLUMNS}) ON kizuna.referral TO {referrers}")
    op.execute(f"GRANT INSERT ({REFERRER_INSERT_COLUMNS}) ON kizuna.referral TO {referrers}")
    op.execute(
        f"CREATE POLICY referrer_own_organisation ON kizuna.referral AS RESTRICTIVE TO {referrers}"
        " USING (referrer_organisation_id = kizuna.current_organisation())"
        " WITH CHECK (referrer_organisation_id = kizuna.current_organisation()"
        " AND referrer_subject = kizuna.current_subject() AND status = 'submitted')"
    )

    # The prefecture enters its own programmes (tenant 110001 …); aggregates come from stats.
    op.execute("GRANT SELECT, INSERT, UPDATE ON kizuna.programme_activity TO kizuna_prefecture_analyst")
    op.execute("GRANT SELECT ON kizuna.municipality_status TO kizuna_prefecture_analyst")

    # Memberships: everyone sees their own (begin_request checks it); supervisors and
    # platform admins see and manage their tenant's.
    op.execute(f"GRANT SELECT ON kizuna.membership TO {role_list}")
    op.execute("GRANT INSERT, UPDATE ON kizuna.membership TO kizuna_supervisor, kizuna_platform_admin")
    others = ", ".join(r for r in roles if r not in ("kizuna_supervisor", "kizuna_platform_admin"))
    op.execute(
        f"CREATE POLICY own_membership ON kizuna.membership AS RESTRICTIVE TO {others}"
        " USING (subject = kizuna.current_subject())"
    )

    # Audit: everyone appends, nobody updates or deletes, supervisors read.
    op.execute(f"GRANT INSERT ON kizuna.audit_event TO {role_list}")
    op.execute("GRANT SELECT ON kizuna.audit_event TO kizuna_supervisor")


def downgrade() -> None:
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON kizuna.{table}")
        op.execute(f"ALTER TABLE kizuna.{table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE kizuna.{table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP POLICY IF EXISTS referrer_own_organisation ON kizuna.referral")
    op.execute("DROP POLICY IF EXISTS own_membership ON kizuna.membership")
    for fn in (
        "begin_request(text, text, text, text)",
        "current_municipality()",
        "current_subject()",
        "current_organisation()",
        "current_app_role()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS kizuna.{fn}")
    roles = ", ".join([f"kizuna_{r}" for r in APP_ROLES] + ["kizuna_app"])
    # Privileges go with the tables; the cluster-wide roles stay (other databases use them).
    op.execute(f"REVOKE ALL ON SCHEMA kizuna FROM {roles}")
