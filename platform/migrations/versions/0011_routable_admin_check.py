"""A platform administrator's membership check names its tenant.

`kizuna.begin_request` checked a platform administrator's membership by prefecture
(`left(municipality_code, 2)`), which no shard key can route: on Citus every request of a
platform administrator read all shards, and a transaction that had done so could not then
write a reference table (registering a user in `grantMembership` was refused). The
membership is held in the prefecture's own tenant (0005's CHECK), so the function now looks
that tenant's code up in the global `municipality` table first and reads the membership
there. Who may act where is unchanged.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies (0004's): migrations do not import the application's code.
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
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _begin_request(membership_check: str, declare: str = "") -> str:
    return f"""
CREATE OR REPLACE FUNCTION kizuna.begin_request(
    p_role text, p_municipality text, p_user text, p_organisation text
) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
{declare}BEGIN
    IF p_role IS NULL OR NOT (p_role = ANY (ARRAY[{", ".join(f"'{r}'" for r in APP_ROLES)}])) THEN
        RAISE EXCEPTION 'unknown app role' USING ERRCODE = '28000';
    END IF;
    IF p_municipality IS NULL OR p_municipality !~ '^[0-9]{{6}}$' THEN
        RAISE EXCEPTION 'invalid municipality code' USING ERRCODE = '22023';
    END IF;
    IF p_user IS NULL OR p_user !~ '{UUID_PATTERN}' THEN
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
    """    IF p_role = 'platform_admin' THEN
        -- Runs as kizuna_platform_admin. Its membership is held in the prefecture's own
        -- tenant, named first from the global table, so that the read names its tenant
        -- (one shard on Citus, not all of them).
        SELECT mu.code INTO v_prefecture_tenant FROM kizuna.municipality mu
         WHERE mu.kind = 'prefecture' AND mu.prefecture_code = left(p_municipality, 2);
        PERFORM 1 FROM kizuna.membership m
         WHERE m.municipality_code = v_prefecture_tenant
           AND m.user_id = p_user::uuid
           AND m.role = 'platform_admin'
           AND m.organisation_id = p_organisation::uuid
           AND m.revoked_at IS NULL;
    ELSE
        -- Runs as the app role, under row security: only this tenant's memberships are visible.
        PERFORM 1 FROM kizuna.membership m
         WHERE m.municipality_code = p_municipality
           AND m.user_id = p_user::uuid
           AND m.role = p_role::kizuna.app_role
           AND m.organisation_id = p_organisation::uuid
           AND m.revoked_at IS NULL;
    END IF;""",
    declare="DECLARE\n    v_prefecture_tenant text;\n",
)
BEGIN_REQUEST_0004 = _begin_request(
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


def upgrade() -> None:
    op.execute(BEGIN_REQUEST)


def downgrade() -> None:
    op.execute(BEGIN_REQUEST_0004)
