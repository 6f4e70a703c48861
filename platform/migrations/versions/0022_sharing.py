"""Sharing a case with the organisations taking part in it (issue 15, items 6 and 7):
consent, the yotaikyo registration, a supervisor's override, break the glass, and what
an agency or a school social worker may read, all held in the database.

- `case_share`: one row per (case, organisation, basis) that lets the organisation read
  the case's shared view; `basis` is a consent (with its expiry), the case's yotaikyo
  registration, or a supervisor's override with its reason. The services write it in the
  same transaction as the participant, the consent, the registration or the override it
  follows, and revoke it (`revoked_at`) when that goes. Only a supervisor inserts an
  override (the caseworkers' and coordinators' INSERT policy refuses that basis).
- `kizuna.begin_agency_request()`, called right after `begin_request` for a welfare
  worker or a school social worker: reads the organisation's live shares and the user's
  live emergency accesses (not revoked, not expired: `now()` at that moment) and puts
  their case ids into `kizuna.shared_cases` with `SET LOCAL` (through `EXECUTE format`
  with `%L`, after `begin_request`'s `citus.propagate_set_commands = 'local'`, so the
  workers see it), once per transaction. `kizuna.shared_cases()` reads it back.
- Agencies and school social workers may SELECT `meeting` (kind, date, decisions, next
  review) and `support_plan` (version, goals, period) of those cases only (a policy
  `case_id = ANY (kizuna.shared_cases())` and column grants), their organisation's
  `case_share` rows, and their own `emergency_access` rows; they insert an emergency
  access only for themselves and for at most 24 hours from now.
- `consent`: a given consent is never edited (ISO/IEC TS 27560): staff may UPDATE only
  `withdrawn_at` and `withdrawal_reason`, only of a consent not yet withdrawn, and only to
  withdraw it; nobody deletes one. Caseworkers and coordinators record only consents not
  withdrawn; supervisors' inserts stay as wide as the tenant (the demo seeder writes
  histories through them). `idempotency_key` for `recordConsent`.
- `emergency_access`: nobody updates one any more (no code did; an update could stretch
  its window). Its `granted_at` defaults to the server's time.
- `case_event_kind` gains `yotaikyo_registered` and `yotaikyo_deregistered`.

Every policy is permissive and carries the tenant condition (0010); `tenant_isolation` on
the tables given narrower rules applies to the roles without them. No sub-select in a
policy (Citus): the set of shared cases is computed once, by the function, not by the
policies.

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "municipality_code = kizuna.current_municipality()"
STAFF = "kizuna_caseworker, kizuna_coordinator, kizuna_supervisor"
REQUESTERS = "kizuna_caseworker, kizuna_coordinator"
AGENCIES = "kizuna_welfare_worker, kizuna_school_social_worker"
BY_THE_REQUEST = "kizuna.current_subject()"
# What an agency may read of a shared case's meetings and plans.
MEETING_COLUMNS = "municipality_code, id, case_id, kind, held_on, decisions, next_review_on"
PLAN_COLUMNS = "municipality_code, id, case_id, version, goals, period_start, period_end"
# What an agency may read of its own shares (never an override's reason).
AGENCY_SHARE_COLUMNS = "municipality_code, id, case_id, organisation_id, basis, expires_at, revoked_at"
SHARED = "case_id = ANY (kizuna.shared_cases())"

FUNCTIONS = (
    """
CREATE FUNCTION kizuna.shared_cases() RETURNS uuid[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT COALESCE(NULLIF(current_setting('kizuna.shared_cases', true), ''), '{}')::uuid[] $$;
""",
    """
CREATE FUNCTION kizuna.begin_agency_request() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
AS $$
DECLARE
    v_municipality text := kizuna.current_municipality();
    v_organisation uuid := kizuna.current_organisation();
    v_subject text := kizuna.current_subject();
    v_shared uuid[];
    v_emergency uuid[];
BEGIN
    IF kizuna.current_app_role() IS NULL
       OR kizuna.current_app_role() NOT IN ('welfare_worker', 'school_social_worker') THEN
        RAISE EXCEPTION 'not an agency request' USING ERRCODE = '42501';
    END IF;
    -- Once per transaction: a second call could otherwise widen the set mid-request.
    IF COALESCE(current_setting('kizuna.shared_cases', true), '') <> '' THEN
        RAISE EXCEPTION 'shared cases already set in this transaction' USING ERRCODE = '25001';
    END IF;
    -- Under row security as the agency's role: its organisation's shares, its own accesses.
    -- The tenant as a bound value, so that each read goes to one shard on Citus.
    SELECT array_agg(s.case_id) INTO v_shared FROM kizuna.case_share s
     WHERE s.municipality_code = v_municipality
       AND s.organisation_id = v_organisation
       AND s.revoked_at IS NULL
       AND (s.expires_at IS NULL OR s.expires_at > now());
    SELECT array_agg(e.case_id) INTO v_emergency FROM kizuna.emergency_access e
     WHERE e.municipality_code = v_municipality
       AND e.subject = v_subject
       AND e.expires_at > now();
    EXECUTE format('SET LOCAL kizuna.shared_cases = %L',
                   COALESCE(v_shared, '{}') || COALESCE(v_emergency, '{}'));
END
$$;
""",
)


def _tenant_isolation_to(table: str, roles: str) -> str:
    """`tenant_isolation` on `table` for `roles` and the table's owner (named when it runs)."""
    return (
        "DO $$ BEGIN EXECUTE format("
        f"'ALTER POLICY tenant_isolation ON kizuna.{table} TO %I, {roles}',"
        f" (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'kizuna.{table}'::regclass)); END $$"
    )


def upgrade() -> None:
    op.execute("ALTER TYPE kizuna.case_event_kind ADD VALUE IF NOT EXISTS 'yotaikyo_registered'")
    op.execute("ALTER TYPE kizuna.case_event_kind ADD VALUE IF NOT EXISTS 'yotaikyo_deregistered'")
    op.execute("CREATE TYPE kizuna.share_basis AS ENUM ('consent', 'yotaikyo', 'override')")

    op.execute(
        "ALTER TABLE kizuna.consent ADD COLUMN withdrawal_reason text, ADD COLUMN idempotency_key text,"
        " ADD CONSTRAINT ck_consent_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),"
        " ADD CONSTRAINT uq_consent_municipality_code_idempotency_key UNIQUE (municipality_code, idempotency_key)"
    )
    op.execute("CREATE INDEX ix_consent_municipality_code_case_id ON kizuna.consent (municipality_code, case_id)")
    op.execute("ALTER TABLE kizuna.emergency_access ALTER COLUMN granted_at SET DEFAULT now()")

    op.execute("""
CREATE TABLE kizuna.case_share (
    municipality_code varchar(6) NOT NULL,
    id uuid NOT NULL,
    case_id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    basis kizuna.share_basis NOT NULL,
    consent_id uuid,
    reason text,
    expires_at timestamptz,
    revoked_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_case_share PRIMARY KEY (municipality_code, id),
    CONSTRAINT ck_case_share_municipality_code_set CHECK (municipality_code <> ''),
    CONSTRAINT ck_case_share_consent_iff_consent_basis CHECK ((basis = 'consent') = (consent_id IS NOT NULL)),
    CONSTRAINT ck_case_share_override_with_reason CHECK (basis <> 'override' OR char_length(btrim(reason)) > 0),
    CONSTRAINT ck_case_share_revoked_after_created CHECK (revoked_at IS NULL OR revoked_at >= created_at),
    CONSTRAINT fk_case_share_municipality_code FOREIGN KEY (municipality_code) REFERENCES kizuna.municipality (code),
    CONSTRAINT fk_case_share_organisation_id FOREIGN KEY (organisation_id) REFERENCES kizuna.organisation (id),
    CONSTRAINT fk_case_share_municipality_code_case_id FOREIGN KEY (municipality_code, case_id)
        REFERENCES kizuna.carer_case (municipality_code, id),
    CONSTRAINT fk_case_share_municipality_code_consent_id FOREIGN KEY (municipality_code, consent_id)
        REFERENCES kizuna.consent (municipality_code, id)
)""")
    op.execute(
        "CREATE INDEX ix_case_share_municipality_code_organisation_id"
        " ON kizuna.case_share (municipality_code, organisation_id)"
    )
    op.execute("CREATE INDEX ix_case_share_municipality_code_case_id ON kizuna.case_share (municipality_code, case_id)")
    op.execute("ALTER TABLE kizuna.case_share ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE kizuna.case_share FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON kizuna.case_share USING ({TENANT}) WITH CHECK ({TENANT})")

    for statement in FUNCTIONS:
        op.execute(statement)
    # New functions are executable by PUBLIC unless revoked.
    op.execute("REVOKE ALL ON FUNCTION kizuna.shared_cases(), kizuna.begin_agency_request() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION kizuna.shared_cases(), kizuna.begin_agency_request() TO {AGENCIES}")

    # case_share: staff read and write it (only a supervisor an override), and revoke a
    # share by setting revoked_at once; municipal systems read it; an agency reads its own.
    op.execute(_tenant_isolation_to("case_share", "kizuna_municipal_system"))
    op.execute(f"GRANT SELECT ON kizuna.case_share TO {STAFF}, kizuna_municipal_system")
    op.execute(f"GRANT INSERT ON kizuna.case_share TO {STAFF}")
    op.execute(f"GRANT UPDATE (revoked_at) ON kizuna.case_share TO {STAFF}")
    op.execute(f"CREATE POLICY staff_reads ON kizuna.case_share FOR SELECT TO {STAFF} USING ({TENANT})")
    op.execute(
        f"CREATE POLICY staff_shares ON kizuna.case_share FOR INSERT TO {REQUESTERS}"
        f" WITH CHECK ({TENANT} AND basis <> 'override' AND revoked_at IS NULL AND created_by = {BY_THE_REQUEST})"
    )
    op.execute(
        "CREATE POLICY supervisor_shares ON kizuna.case_share FOR INSERT TO kizuna_supervisor"
        f" WITH CHECK ({TENANT} AND created_by = {BY_THE_REQUEST})"
    )
    op.execute(
        f"CREATE POLICY staff_revokes ON kizuna.case_share FOR UPDATE TO {STAFF}"
        f" USING ({TENANT} AND revoked_at IS NULL) WITH CHECK ({TENANT} AND revoked_at IS NOT NULL)"
    )
    op.execute(f"GRANT SELECT ({AGENCY_SHARE_COLUMNS}) ON kizuna.case_share TO {AGENCIES}")
    op.execute(
        f"CREATE POLICY agency_own_shares ON kizuna.case_share FOR SELECT TO {AGENCIES}"
        f" USING ({TENANT} AND organisation_id = kizuna.current_organisation())"
    )

    # consent: never edited, only withdrawn, never deleted.
    op.execute(_tenant_isolation_to("consent", "kizuna_municipal_system"))
    op.execute(f"REVOKE UPDATE, DELETE ON kizuna.consent FROM {STAFF}")
    op.execute(f"GRANT UPDATE (withdrawn_at, withdrawal_reason) ON kizuna.consent TO {STAFF}")
    op.execute(f"CREATE POLICY staff_reads ON kizuna.consent FOR SELECT TO {STAFF} USING ({TENANT})")
    op.execute(
        f"CREATE POLICY staff_records ON kizuna.consent FOR INSERT TO {REQUESTERS}"
        f" WITH CHECK ({TENANT} AND withdrawn_at IS NULL AND withdrawal_reason IS NULL)"
    )
    op.execute(
        f"CREATE POLICY supervisor_records ON kizuna.consent FOR INSERT TO kizuna_supervisor WITH CHECK ({TENANT})"
    )
    op.execute(
        f"CREATE POLICY staff_withdraws ON kizuna.consent FOR UPDATE TO {STAFF}"
        f" USING ({TENANT} AND withdrawn_at IS NULL) WITH CHECK ({TENANT} AND withdrawn_at IS NOT NULL)"
    )
    # A merge of duplicate people (0020) moves a live consent to the person kept; a
    # withdrawn consent stays out of reach of every UPDATE.
    op.execute(f"GRANT UPDATE (person_id) ON kizuna.consent TO {STAFF}")
    op.execute(
        f"CREATE POLICY staff_moves ON kizuna.consent FOR UPDATE TO {STAFF}"
        f" USING ({TENANT} AND withdrawn_at IS NULL) WITH CHECK ({TENANT})"
    )

    # emergency_access: staff read and record it (nobody updates it); an agency user opens
    # one for themself, for at most 24 hours from now, and reads their own. The CHECK holds
    # it to 24 hours from `granted_at`; the policy keeps `granted_at` from being written
    # into the future (five minutes' slack: on Citus a worker's clock reads the policy).
    op.execute(_tenant_isolation_to("emergency_access", f"{STAFF}, kizuna_municipal_system"))
    op.execute(f"REVOKE UPDATE, DELETE ON kizuna.emergency_access FROM {STAFF}")
    op.execute(f"GRANT SELECT, INSERT ON kizuna.emergency_access TO {AGENCIES}")
    op.execute(
        f"CREATE POLICY agency_own_accesses ON kizuna.emergency_access FOR SELECT TO {AGENCIES}"
        f" USING ({TENANT} AND subject = {BY_THE_REQUEST})"
    )
    op.execute(
        f"CREATE POLICY agency_opens ON kizuna.emergency_access FOR INSERT TO {AGENCIES}"
        f" WITH CHECK ({TENANT} AND subject = {BY_THE_REQUEST} AND expires_at <= now() + interval '24 hours 5 minutes')"
    )

    # meeting and support_plan: an agency reads the shared view of its shared cases only.
    for table, columns in (("meeting", MEETING_COLUMNS), ("support_plan", PLAN_COLUMNS)):
        op.execute(_tenant_isolation_to(table, f"{STAFF}, kizuna_municipal_system"))
        op.execute(f"GRANT SELECT ({columns}) ON kizuna.{table} TO {AGENCIES}")
        op.execute(
            f"CREATE POLICY agency_shared ON kizuna.{table} FOR SELECT TO {AGENCIES} USING ({TENANT} AND {SHARED})"
        )


def downgrade() -> None:
    for table, columns in (("meeting", MEETING_COLUMNS), ("support_plan", PLAN_COLUMNS)):
        op.execute(f"DROP POLICY agency_shared ON kizuna.{table}")
        op.execute(f"REVOKE SELECT ({columns}) ON kizuna.{table} FROM {AGENCIES}")
        op.execute(f"ALTER POLICY tenant_isolation ON kizuna.{table} TO PUBLIC")
    for policy in ("agency_opens", "agency_own_accesses"):
        op.execute(f"DROP POLICY {policy} ON kizuna.emergency_access")
    op.execute(f"REVOKE SELECT, INSERT ON kizuna.emergency_access FROM {AGENCIES}")
    op.execute(f"GRANT UPDATE ON kizuna.emergency_access TO {STAFF}")
    op.execute("ALTER POLICY tenant_isolation ON kizuna.emergency_access TO PUBLIC")
    for policy in ("staff_moves", "staff_withdraws", "supervisor_records", "staff_records", "staff_reads"):
        op.execute(f"DROP POLICY {policy} ON kizuna.consent")
    op.execute(f"REVOKE UPDATE (withdrawn_at, withdrawal_reason, person_id) ON kizuna.consent FROM {STAFF}")
    op.execute(f"GRANT UPDATE ON kizuna.consent TO {STAFF}")
    op.execute("ALTER POLICY tenant_isolation ON kizuna.consent TO PUBLIC")
    op.execute("DROP TABLE kizuna.case_share")
    op.execute("DROP FUNCTION kizuna.begin_agency_request(), kizuna.shared_cases()")
    op.execute("ALTER TABLE kizuna.emergency_access ALTER COLUMN granted_at DROP DEFAULT")
    op.execute("DROP INDEX kizuna.ix_consent_municipality_code_case_id")
    op.execute(
        "ALTER TABLE kizuna.consent DROP CONSTRAINT uq_consent_municipality_code_idempotency_key,"
        " DROP CONSTRAINT ck_consent_idempotency_key_length, DROP COLUMN idempotency_key,"
        " DROP COLUMN withdrawal_reason"
    )
    op.execute("DROP TYPE kizuna.share_basis")
    # An enum value cannot be dropped: yotaikyo_registered and yotaikyo_deregistered stay.
