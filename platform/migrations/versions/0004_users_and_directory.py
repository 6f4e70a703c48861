"""Users by issuer and subject, memberships by user, and the sign-in directory lookup.

- `kizuna.app_user` (global) names a user by the OIDC issuer and subject that signed them
  in. Memberships point at it by `user_id`, and `kizuna.subject` now carries that id.
- `kizuna.begin_sign_in(issuer, subject)` is the directory lookup: before a tenant is
  known it switches to the NOLOGIN role `kizuna_directory`, which sees the caller's own
  memberships in every tenant (policy on `user_id`, no sub-select) and nothing else.
- A platform administrator's membership lives in the prefecture's tenant and is valid in
  every tenant of that prefecture; `begin_request` checks it there.

Memberships made before this revision had no issuer: they were all demo users of the
development IdP, so they are assigned to its default issuer.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_ISSUER = "http://127.0.0.1:8000/dev-idp"
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
ROLES = tuple(f"kizuna_{r}" for r in APP_ROLES)
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

CURRENT_USER_ID = """
CREATE FUNCTION kizuna.current_user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('kizuna.subject', true), '')::uuid $$;
"""

BEGIN_SIGN_IN = """
CREATE FUNCTION kizuna.begin_sign_in(p_issuer text, p_subject text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
DECLARE
    v_user uuid;
BEGIN
    IF p_issuer IS NULL OR p_issuer = '' OR p_subject IS NULL OR p_subject = '' THEN
        RAISE EXCEPTION 'no issuer or subject' USING ERRCODE = '28000';
    END IF;
    IF COALESCE(current_setting('kizuna.municipality', true), '') <> ''
       OR COALESCE(current_setting('kizuna.subject', true), '') <> '' THEN
        RAISE EXCEPTION 'request context already set in this transaction' USING ERRCODE = '25001';
    END IF;
    -- Same order as begin_request: the role, then the Citus propagation, then the context.
    SET LOCAL ROLE kizuna_directory;
    SET LOCAL citus.propagate_set_commands = 'local';
    SELECT u.id INTO v_user FROM kizuna.app_user u WHERE u.issuer = p_issuer AND u.subject = p_subject;
    IF v_user IS NOT NULL THEN
        EXECUTE format('SET LOCAL kizuna.subject = %L', v_user);
    END IF;
    RETURN v_user;
END
$$;
"""


def _begin_request(user_check: str, membership_check: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION kizuna.begin_request(
    p_role text, p_municipality text, p_user text, p_organisation text
) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
BEGIN
    IF p_role IS NULL OR NOT (p_role = ANY (ARRAY[{", ".join(f"'{r}'" for r in APP_ROLES)}])) THEN
        RAISE EXCEPTION 'unknown app role' USING ERRCODE = '28000';
    END IF;
    IF p_municipality IS NULL OR p_municipality !~ '^[0-9]{{6}}$' THEN
        RAISE EXCEPTION 'invalid municipality code' USING ERRCODE = '22023';
    END IF;
    IF {user_check} THEN
        RAISE EXCEPTION 'no user' USING ERRCODE = '28000';
    END IF;
    IF p_organisation IS NULL OR p_organisation !~ '{UUID_PATTERN}' THEN
        RAISE EXCEPTION 'invalid organisation id' USING ERRCODE = '22023';
    END IF;
    -- Once per transaction: a second call could otherwise switch tenants mid-request.
    IF COALESCE(current_setting('kizuna.municipality', true), '') <> ''
       OR COALESCE(current_setting('kizuna.subject', true), '') <> '' THEN
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
{membership_check}
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no active membership for this tenant, role and organisation'
            USING ERRCODE = '28000';
    END IF;
END
$$;
"""


BEGIN_REQUEST = _begin_request(
    f"p_user IS NULL OR p_user !~ '{UUID_PATTERN}'",
    """    IF p_role = 'platform_admin' THEN
        -- Runs as kizuna_platform_admin, whose own platform_admin memberships are visible
        -- in every tenant; the one held must be in this tenant's prefecture.
        PERFORM 1 FROM kizuna.membership m
         WHERE m.user_id = p_user::uuid
           AND m.role = 'platform_admin'
           AND m.organisation_id = p_organisation::uuid
           AND m.revoked_at IS NULL
           AND left(m.municipality_code, 2) = left(p_municipality, 2);
    ELSE
        -- Runs as the app role, under row security: only this tenant's memberships are visible.
        PERFORM 1 FROM kizuna.membership m
         WHERE m.municipality_code = p_municipality
           AND m.user_id = p_user::uuid
           AND m.role = p_role::kizuna.app_role
           AND m.organisation_id = p_organisation::uuid
           AND m.revoked_at IS NULL;
    END IF;""",
)
# 0002's function, for the downgrade.
BEGIN_REQUEST_0002 = _begin_request(
    "p_user IS NULL OR p_user = ''",
    """    PERFORM 1 FROM kizuna.membership m
     WHERE m.municipality_code = p_municipality
       AND m.subject = p_user
       AND m.role = p_role::kizuna.app_role
       AND m.organisation_id = p_organisation::uuid
       AND m.revoked_at IS NULL;""",
)


def upgrade() -> None:
    op.execute(
        "CREATE TABLE kizuna.app_user ("
        " id uuid PRIMARY KEY,"
        " issuer text NOT NULL CONSTRAINT ck_app_user_issuer_present CHECK (issuer <> ''),"
        " subject text NOT NULL CONSTRAINT ck_app_user_subject_present CHECK (subject <> ''),"
        " created_at timestamptz NOT NULL DEFAULT now(),"
        " CONSTRAINT uq_app_user_issuer_subject UNIQUE (issuer, subject))"
    )
    # The owner moves existing rows: FORCE would hide them from it while no tenant is set.
    op.execute("ALTER TABLE kizuna.membership NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.referral NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "INSERT INTO kizuna.app_user (id, issuer, subject)"
        f" SELECT gen_random_uuid(), '{LEGACY_ISSUER}', s FROM (SELECT DISTINCT subject AS s FROM kizuna.membership) m"
    )
    op.execute("ALTER TABLE kizuna.membership ADD COLUMN user_id uuid")
    op.execute(
        "UPDATE kizuna.membership m SET user_id = u.id FROM kizuna.app_user u"
        f" WHERE u.issuer = '{LEGACY_ISSUER}' AND u.subject = m.subject"
    )
    op.execute(
        "UPDATE kizuna.referral r SET referrer_subject = u.id::text FROM kizuna.app_user u"
        f" WHERE u.issuer = '{LEGACY_ISSUER}' AND u.subject = r.referrer_subject"
    )
    op.execute("ALTER TABLE kizuna.membership FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.referral FORCE ROW LEVEL SECURITY")
    op.execute("DROP POLICY own_membership ON kizuna.membership")
    op.execute(
        "ALTER TABLE kizuna.membership DROP CONSTRAINT uq_membership_municipality_code_subject_role_organisation_id"
    )
    op.execute("ALTER TABLE kizuna.membership DROP COLUMN subject")
    op.execute("ALTER TABLE kizuna.membership ALTER COLUMN user_id SET NOT NULL")
    op.execute(
        "ALTER TABLE kizuna.membership ADD CONSTRAINT fk_membership_user_id_app_user"
        " FOREIGN KEY (user_id) REFERENCES kizuna.app_user (id)"
    )
    op.execute(
        "ALTER TABLE kizuna.membership ADD CONSTRAINT uq_membership_municipality_code_user_id_role_organisation_id"
        " UNIQUE (municipality_code, user_id, role, organisation_id)"
    )
    op.execute("CREATE INDEX ix_membership_user_id ON kizuna.membership (user_id)")

    op.execute(CURRENT_USER_ID)
    op.execute(BEGIN_REQUEST)
    op.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kizuna_directory') THEN"
        " CREATE ROLE kizuna_directory NOLOGIN; END IF; END $$"
    )
    # NOLOGIN only where it is created (above): see 0002 on roles that a Citus cluster logs in with.
    op.execute("ALTER ROLE kizuna_directory NOSUPERUSER NOBYPASSRLS")
    op.execute("GRANT kizuna_directory TO kizuna_app")
    op.execute("GRANT USAGE ON SCHEMA kizuna TO kizuna_directory")
    op.execute(BEGIN_SIGN_IN)
    op.execute("REVOKE ALL ON FUNCTION kizuna.begin_sign_in(text, text) FROM PUBLIC")
    op.execute("REVOKE ALL ON FUNCTION kizuna.current_user_id() FROM PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION kizuna.begin_sign_in(text, text) TO kizuna_app")
    role_list = ", ".join((*ROLES, "kizuna_directory"))
    op.execute(f"GRANT EXECUTE ON FUNCTION kizuna.current_user_id() TO {role_list}")
    op.execute("GRANT EXECUTE ON FUNCTION kizuna.current_municipality(), kizuna.current_subject() TO kizuna_directory")

    # The directory sees who a user is and which memberships they hold, nothing more.
    op.execute("GRANT SELECT ON kizuna.app_user TO kizuna_directory")
    op.execute(
        "GRANT SELECT (municipality_code, id, user_id, display_name, role, organisation_id, revoked_at)"
        " ON kizuna.membership TO kizuna_directory"
    )
    op.execute(
        "CREATE POLICY directory_own_memberships ON kizuna.membership FOR SELECT TO kizuna_directory"
        " USING (user_id = kizuna.current_user_id())"
    )
    # A platform administrator's own platform_admin membership is valid in every tenant.
    op.execute(
        "CREATE POLICY platform_admin_own_membership ON kizuna.membership FOR SELECT TO kizuna_platform_admin"
        " USING (user_id = kizuna.current_user_id() AND role = 'platform_admin')"
    )
    others = ", ".join(r for r in ROLES if r not in ("kizuna_supervisor", "kizuna_platform_admin"))
    op.execute(
        f"CREATE POLICY own_membership ON kizuna.membership AS RESTRICTIVE TO {others}"
        " USING (user_id = kizuna.current_user_id())"
    )
    # Those who manage memberships name users that may not have signed in yet.
    op.execute("GRANT SELECT, INSERT ON kizuna.app_user TO kizuna_supervisor, kizuna_platform_admin")
    # Every writer continues the tenant's audit chain, so it reads the chain's last link.
    op.execute(f"GRANT SELECT (municipality_code, seq, hash) ON kizuna.audit_event TO {', '.join(ROLES)}")


def downgrade() -> None:
    for policy in ("directory_own_memberships", "platform_admin_own_membership", "own_membership"):
        op.execute(f"DROP POLICY {policy} ON kizuna.membership")
    op.execute("DROP FUNCTION kizuna.begin_sign_in(text, text)")
    op.execute("ALTER TABLE kizuna.membership NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.referral NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.membership ADD COLUMN subject text")
    op.execute("UPDATE kizuna.membership m SET subject = u.subject FROM kizuna.app_user u WHERE u.id = m.user_id")
    op.execute(
        "UPDATE kizuna.referral r SET referrer_subject = u.subject FROM kizuna.app_user u"
        " WHERE u.id::text = r.referrer_subject"
    )
    op.execute("ALTER TABLE kizuna.membership ALTER COLUMN subject SET NOT NULL")
    op.execute("ALTER TABLE kizuna.membership DROP COLUMN user_id")
    op.execute(
        "ALTER TABLE kizuna.membership ADD CONSTRAINT uq_membership_municipality_code_subject_role_organisation_id"
        " UNIQUE (municipality_code, subject, role, organisation_id)"
    )
    op.execute("ALTER TABLE kizuna.membership FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.referral FORCE ROW LEVEL SECURITY")
    others = ", ".join(r for r in ROLES if r not in ("kizuna_supervisor", "kizuna_platform_admin"))
    op.execute(
        f"CREATE POLICY own_membership ON kizuna.membership AS RESTRICTIVE TO {others}"
        " USING (subject = kizuna.current_subject())"
    )
    op.execute(BEGIN_REQUEST_0002)
    op.execute("DROP FUNCTION kizuna.current_user_id()")
    op.execute("DROP TABLE kizuna.app_user")
    op.execute(f"REVOKE SELECT (municipality_code, seq, hash) ON kizuna.audit_event FROM {', '.join(ROLES)}")
    # The role is cluster-wide (other databases may use it); only this database's grants go.
    op.execute("REVOKE USAGE ON SCHEMA kizuna FROM kizuna_directory")
