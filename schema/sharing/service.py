"""Sharing a case with the organisations taking part in it (issue 15, items 6 and 7).

Invariant: an organisation may read a case's shared view (meeting decisions, plan goals)
only while a live `case_share` row names it, and every service here that changes what
justifies a share (a participant, a consent, the yotaikyo registration, an override) calls
`sync_shares` in the same transaction, so the rows always follow:

- a participant covered by a live consent (by id or kind) has a `consent` share expiring
  with the consent (the end of its last day, Japan time);
- a participant of a case registered with the yotaikyo has a `yotaikyo` share;
- an `override` share (a supervisor's, with a reason) lasts while the organisation takes
  part in the case;
- everything else is revoked (`revoked_at`), never deleted.

The database reads the rows at the start of each agency request (0022), so a withdrawal,
a removal or an expiry holds from the next request on. The tenant as `$1` in every statement.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from kizuna.platform import audit
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import CaseEventKind, ConsentGiver, OrganisationKind, ShareBasis
from kizuna.schema.cases import service as cases
from kizuna.schema.cases import workflow
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.writes import check_idempotency_key, check_text, inserted, retried

MAX_ROLE_LENGTH = 100
MAX_PURPOSE_LENGTH = 1000
MAX_REASON_LENGTH = 1000
MIN_EMERGENCY_REASON = 10  # the table's CHECK too
MAX_EMERGENCY_HOURS = 24  # the table's CHECK and the agencies' INSERT policy too
MAX_CONSENT_DAYS = 3 * 366
MAX_NAMED = 50

ORGANISATION = "SELECT id, municipality_code, name, kind FROM kizuna.organisation WHERE id = ANY($1::uuid[])"

# --- shares -------------------------------------------------------------------------

PARTICIPANTS = """
SELECT p.id, p.organisation_id, o.kind::text AS kind FROM kizuna.case_participant p
JOIN kizuna.organisation o ON o.id = p.organisation_id
WHERE p.municipality_code = $1 AND p.case_id = $2"""
LIVE_CONSENTS = """
SELECT id, shared_organisation_ids, shared_organisation_kinds::text[] AS kinds, expires_on FROM kizuna.consent
WHERE municipality_code = $1 AND case_id = $2 AND withdrawn_at IS NULL"""
REGISTERED = "SELECT yotaikyo_registered FROM kizuna.carer_case WHERE municipality_code = $1 AND id = $2"
LIVE_SHARES = """
SELECT id, organisation_id, basis::text AS basis, consent_id FROM kizuna.case_share
WHERE municipality_code = $1 AND case_id = $2 AND revoked_at IS NULL"""
REVOKE_SHARES = "UPDATE kizuna.case_share SET revoked_at = now() WHERE municipality_code = $1 AND id = ANY($2::uuid[])"
INSERT_SHARE = """
INSERT INTO kizuna.case_share
    (municipality_code, id, case_id, organisation_id, basis, consent_id, reason, expires_at, created_by)
VALUES ($1, $2, $3, $4, $5::kizuna.share_basis, $6, $7, $8, $9)"""


@dataclass(frozen=True, slots=True)
class _Share:
    organisation_id: uuid.UUID
    basis: ShareBasis
    consent_id: uuid.UUID | None


def consent_ends(expires_on: dt.date | None) -> dt.datetime | None:
    """A consent holds to the end of its last day, Japan time."""
    if expires_on is None:
        return None
    return dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time(), tzinfo=workflow.JAPAN)


async def sync_shares(scope: Scope, case_id: uuid.UUID) -> None:
    """Make the case's live shares what its participants, live consents, yotaikyo
    registration and overrides justify (see the module's docstring). The caller holds the
    case's lock (`access_case(..., lock=True)`)."""
    tx = scope.tx
    participants = {r["organisation_id"]: OrganisationKind(r["kind"]) for r in await tx.fetch(PARTICIPANTS, case_id)}
    registered: bool = await tx.fetchval(REGISTERED, case_id)
    wanted: dict[_Share, dt.datetime | None] = {}
    for consent in await tx.fetch(LIVE_CONSENTS, case_id):
        for organisation_id, kind in participants.items():
            if organisation_id in consent["shared_organisation_ids"] or kind.value in consent["kinds"]:
                share = _Share(organisation_id, ShareBasis.CONSENT, consent["id"])
                wanted[share] = consent_ends(consent["expires_on"])
    if registered:
        for organisation_id in participants:
            wanted[_Share(organisation_id, ShareBasis.YOTAIKYO, None)] = None
    live = {
        _Share(r["organisation_id"], ShareBasis(r["basis"]), r["consent_id"]): r["id"]
        for r in await tx.fetch(LIVE_SHARES, case_id)
    }
    stale = [
        share_id
        for share, share_id in live.items()
        if (share not in wanted and share.basis is not ShareBasis.OVERRIDE) or share.organisation_id not in participants
    ]
    if stale:
        await tx.execute(REVOKE_SHARES, stale)
    new = [(share, expires) for share, expires in wanted.items() if share not in live]
    if new:
        await tx.executemany(
            INSERT_SHARE,
            [
                (
                    uuid7(),
                    case_id,
                    s.organisation_id,
                    s.basis.value,
                    s.consent_id,
                    None,
                    expires,
                    str(scope.caller.user_id),
                )
                for s, expires in new
            ],
        )


def _require(scope: Scope, operation: Operation) -> None:
    if not may(scope.role, operation):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_SHARE)


async def _serving_organisation(scope: Scope, organisation_id: uuid.UUID, *, field: str) -> asyncpg.Record:
    """The organisation, if it serves the scope's tenant; any other is NOT_FOUND on `field`."""
    rows = await scope.tx.fetch_global(ORGANISATION, [organisation_id])
    if not rows or rows[0]["municipality_code"] != scope.municipality_code:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_ORGANISATION)
    return rows[0]


# --- participants -------------------------------------------------------------------

ADD_PARTICIPANT_ACTION = "case_participant.add"
REMOVE_PARTICIPANT_ACTION = "case_participant.remove"
INSERT_PARTICIPANT = """
INSERT INTO kizuna.case_participant (municipality_code, id, case_id, organisation_id, role)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (municipality_code, case_id, organisation_id) DO NOTHING"""
_PARTICIPANT_COLUMNS = """
SELECT p.id, p.case_id, p.role, p.added_at, o.id AS org_id, o.name AS org_name, o.kind AS org_kind
FROM kizuna.case_participant p JOIN kizuna.organisation o ON o.id = p.organisation_id
WHERE p.municipality_code = $1"""
PARTICIPANT_BY_ID = f"{_PARTICIPANT_COLUMNS} AND p.id = $2"
PARTICIPANT_OF_CASE = f"{_PARTICIPANT_COLUMNS} AND p.case_id = $2 AND p.organisation_id = $3"
# A case has a handful of participants; 100 bounds the answer.
# What a case's participants, consents and the emergency accesses list at most.
MAX_LISTED = 100
PARTICIPANTS_OF_CASE = f"{_PARTICIPANT_COLUMNS} AND p.case_id = $2 ORDER BY p.added_at, p.id LIMIT {MAX_LISTED}"
DELETE_PARTICIPANT = "DELETE FROM kizuna.case_participant WHERE municipality_code = $1 AND id = $2"


async def do_add_participant(
    scope: Scope, case_id: uuid.UUID, organisation_id: uuid.UUID, *, role: str
) -> asyncpg.Record:
    """Add an organisation serving the tenant to a case, and share with it what its consents
    or the yotaikyo registration allow. Adding one already taking part returns it unchanged."""
    _require(scope, Operation.ADD_CASE_PARTICIPANT)
    check_text(role, field="role", message=Message.ROLE_LENGTH, most=MAX_ROLE_LENGTH)
    await cases.access_case(scope, case_id, field="caseId", lock=True)
    await _serving_organisation(scope, organisation_id, field="organizationId")
    status = await scope.tx.execute(INSERT_PARTICIPANT, uuid7(), case_id, organisation_id, role)
    row = await scope.tx.fetchrow(PARTICIPANT_OF_CASE, case_id, organisation_id)
    if row is None:  # unreachable: inserted or there already, and the case is locked
        raise LookupError(case_id)
    # Also when it took part already: a participant recorded before the shares were kept
    # (the demo's) gets what its consents allow.
    await sync_shares(scope, case_id)
    if status == "INSERT 0 1":
        fields = ("case_id", "organisation_id", "role")
        await audit.record(
            scope, action=ADD_PARTICIPANT_ACTION, entity="case_participant", entity_id=row["id"], fields=fields
        )
    return row


async def access_participant(scope: Scope, participant_id: uuid.UUID, *, field: str) -> asyncpg.Record:
    """The participant of the scope's tenant; another tenant's id and an unknown one alike NOT_FOUND."""
    row = await scope.tx.fetchrow(PARTICIPANT_BY_ID, participant_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_PARTICIPANT)
    return row


async def do_remove_participant(scope: Scope, participant_id: uuid.UUID) -> asyncpg.Record:
    """Remove an organisation from a case; every share it held on the case is revoked."""
    _require(scope, Operation.REMOVE_CASE_PARTICIPANT)
    row = await access_participant(scope, participant_id, field="id")
    await cases.access_case(scope, row["case_id"], field="id", lock=True)
    await scope.tx.execute(DELETE_PARTICIPANT, participant_id)
    await sync_shares(scope, row["case_id"])
    await audit.record(scope, action=REMOVE_PARTICIPANT_ACTION, entity="case_participant", entity_id=participant_id)
    return row


# --- the yotaikyo -------------------------------------------------------------------

YOTAIKYO_ACTION = "case.yotaikyo"
SET_REGISTERED = "UPDATE kizuna.carer_case SET yotaikyo_registered = $3 WHERE municipality_code = $1 AND id = $2"


async def do_set_yotaikyo(scope: Scope, case_id: uuid.UUID, *, registered: bool, reason: str) -> None:
    """Register a case with the yotaikyo (要保護児童対策地域協議会) or take it off, with an
    event saying why; its participants' yotaikyo shares follow."""
    _require(scope, Operation.REGISTER_WITH_YOTAIKYO if registered else Operation.DEREGISTER_FROM_YOTAIKYO)
    check_text(reason, field="reason", message=Message.REASON_LENGTH, most=MAX_REASON_LENGTH)
    await cases.access_case(scope, case_id, field="caseId", lock=True)
    if await scope.tx.fetchval(REGISTERED, case_id) == registered:
        raise Refused(UserErrorCode.CONFLICT, "caseId", Message.YOTAIKYO_ALREADY)
    await scope.tx.execute(SET_REGISTERED, case_id, registered)
    kind = CaseEventKind.YOTAIKYO_REGISTERED if registered else CaseEventKind.YOTAIKYO_DEREGISTERED
    await cases.write_case_event(scope, case_id, kind, reason=reason)
    await sync_shares(scope, case_id)
    await audit.record(scope, action=YOTAIKYO_ACTION, entity="case", entity_id=case_id, fields=("yotaikyo_registered",))


# --- consent ------------------------------------------------------------------------

RECORD_CONSENT_ACTION = "consent.record"
WITHDRAW_CONSENT_ACTION = "consent.withdraw"
_CONSENT_COLUMNS = """
SELECT id, case_id, given_by, guardian_name, purpose, shared_organisation_ids,
       shared_organisation_kinds::text[] AS kinds, given_at, expires_on, withdrawn_at, withdrawal_reason
FROM kizuna.consent WHERE municipality_code = $1"""
CONSENT_BY_ID = f"{_CONSENT_COLUMNS} AND id = $2"
CONSENT_BY_KEY = f"{_CONSENT_COLUMNS} AND idempotency_key = $2"
# A case holds a few consents (renewed yearly); 100 bounds the answer.
CONSENTS_OF_CASE = f"{_CONSENT_COLUMNS} AND case_id = $2 ORDER BY given_at DESC, id DESC LIMIT {MAX_LISTED}"
INSERT_CONSENT = """
INSERT INTO kizuna.consent
    (municipality_code, id, person_id, case_id, given_by, guardian_name, purpose, shared_organisation_ids,
     shared_organisation_kinds, given_at, expires_on, idempotency_key)
VALUES ($1, $2, $3, $4, $5::kizuna.consent_giver, $6, $7, $8::uuid[], $9::kizuna.organisation_kind[], now(), $10, $11)
ON CONFLICT (municipality_code, idempotency_key) DO NOTHING"""
WITHDRAW = """
UPDATE kizuna.consent SET withdrawn_at = now(), withdrawal_reason = $3
WHERE municipality_code = $1 AND id = $2 AND withdrawn_at IS NULL"""


@dataclass(frozen=True, slots=True)
class NewConsent:
    given_by: ConsentGiver
    guardian_name: str | None
    purpose: str
    organisation_ids: tuple[uuid.UUID, ...]
    organisation_kinds: tuple[OrganisationKind, ...]
    expires_on: dt.date
    idempotency_key: str | None = None


def _check_consent(new: NewConsent, today: dt.date) -> None:
    if (new.given_by is ConsentGiver.GUARDIAN) != (new.guardian_name is not None):
        raise Refused(UserErrorCode.BAD_USER_INPUT, "guardianName", Message.GUARDIAN_NAMED)
    if new.guardian_name is not None:
        check_text(new.guardian_name, field="guardianName", message=Message.GUARDIAN_NAMED, most=MAX_ROLE_LENGTH)
    check_text(new.purpose, field="purpose", message=Message.PURPOSE_LENGTH, most=MAX_PURPOSE_LENGTH)
    named = len(new.organisation_ids) + len(new.organisation_kinds)
    if not 0 < named <= MAX_NAMED:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "organizationIds", Message.CONSENT_NAMES_NOBODY, max=MAX_NAMED)
    if not today < new.expires_on <= today + dt.timedelta(days=MAX_CONSENT_DAYS):
        raise Refused(UserErrorCode.BAD_USER_INPUT, "expiresOn", Message.CONSENT_EXPIRY, max=MAX_CONSENT_DAYS)
    check_idempotency_key(new.idempotency_key)


async def do_record_consent(scope: Scope, case_id: uuid.UUID, new: NewConsent) -> uuid.UUID:
    """Record a consent given for the case's carer, and share with the participants it
    covers. With an idempotency key, a retry gets the first consent's id back unchanged."""
    _require(scope, Operation.RECORD_CONSENT)
    _check_consent(new, workflow.today())
    case = await cases.access_case(scope, case_id, field="caseId", lock=True)
    if new.organisation_ids:
        found = await scope.tx.fetch_global(ORGANISATION, list(set(new.organisation_ids)))
        if len(found) != len(set(new.organisation_ids)):
            raise Refused(UserErrorCode.NOT_FOUND, "organizationIds", Message.NO_SUCH_ORGANISATION)
    consent_id = uuid7()
    status = await scope.tx.execute(
        INSERT_CONSENT,
        consent_id,
        case["person_id"],
        case_id,
        new.given_by.value,
        new.guardian_name,
        new.purpose,
        list(new.organisation_ids),
        [k.value for k in new.organisation_kinds],
        new.expires_on,
        new.idempotency_key,
    )
    if status == "INSERT 0 0":
        earlier = await scope.tx.fetchrow(CONSENT_BY_KEY, new.idempotency_key)
        if earlier is None or earlier["case_id"] != case_id:
            raise Refused(UserErrorCode.CONFLICT, "idempotencyKey", Message.IDEMPOTENCY_KEY_REUSED)
        earlier_id: uuid.UUID = earlier["id"]
        return earlier_id
    await sync_shares(scope, case_id)
    fields = ("person_id", "case_id", "given_by", "guardian_name", "purpose", "shared_organisation_ids",
              "shared_organisation_kinds", "given_at", "expires_on")  # fmt: skip
    await audit.record(scope, action=RECORD_CONSENT_ACTION, entity="consent", entity_id=consent_id, fields=fields)
    return consent_id


async def access_consent(scope: Scope, consent_id: uuid.UUID, *, field: str) -> asyncpg.Record:
    """The consent of the scope's tenant; another tenant's id and an unknown one alike NOT_FOUND."""
    row = await scope.tx.fetchrow(CONSENT_BY_ID, consent_id)
    if row is None:
        raise Refused(UserErrorCode.NOT_FOUND, field, Message.NO_SUCH_CONSENT)
    return row


async def do_withdraw_consent(scope: Scope, consent_id: uuid.UUID, *, reason: str | None) -> None:
    """Withdraw a consent (never edit it): the shares it gave are revoked at once."""
    _require(scope, Operation.WITHDRAW_CONSENT)
    if reason is not None:
        check_text(reason, field="reason", message=Message.REASON_LENGTH, most=MAX_REASON_LENGTH)
    consent = await access_consent(scope, consent_id, field="consentId")
    if consent["case_id"] is not None:
        await cases.access_case(scope, consent["case_id"], field="consentId", lock=True)
    if await scope.tx.execute(WITHDRAW, consent_id, reason) != "UPDATE 1":
        raise Refused(UserErrorCode.CONFLICT, "consentId", Message.CONSENT_ALREADY_WITHDRAWN)
    if consent["case_id"] is not None:
        await sync_shares(scope, consent["case_id"])
    fields = ("withdrawn_at", "withdrawal_reason")
    await audit.record(scope, action=WITHDRAW_CONSENT_ACTION, entity="consent", entity_id=consent_id, fields=fields)


# --- sharing without consent ----------------------------------------------------------

OVERRIDE_ACTION = "case_share.override"
SHARE_BY_ID = """
SELECT id, case_id, organisation_id, basis::text AS basis, reason, expires_at, revoked_at, created_at
FROM kizuna.case_share WHERE municipality_code = $1 AND id = $2"""


OVERRIDE_WITH_KEY = (
    "SELECT id, case_id, organisation_id, reason FROM kizuna.case_share"
    " WHERE municipality_code = $1 AND idempotency_key = $2"
)
INSERT_OVERRIDE = """
INSERT INTO kizuna.case_share
    (municipality_code, id, case_id, organisation_id, basis, reason, created_by, idempotency_key)
VALUES ($1, $2, $3, $4, 'override', $5, $6, $7)
ON CONFLICT (municipality_code, idempotency_key) DO NOTHING
RETURNING id"""


async def do_share_without_consent(
    scope: Scope, case_id: uuid.UUID, organisation_id: uuid.UUID, *, reason: str, idempotency_key: str | None = None
) -> uuid.UUID:
    """A supervisor shares the case with one of its participants without consent, saying
    why (the database lets no other role insert an override); audited. A retry with the
    same idempotency key gets the first request's share back."""
    _require(scope, Operation.SHARE_WITHOUT_CONSENT)
    check_text(reason, field="reason", message=Message.REASON_LENGTH, most=MAX_REASON_LENGTH)
    check_idempotency_key(idempotency_key)
    await cases.access_case(scope, case_id, field="caseId", lock=True)
    if idempotency_key is not None:
        earlier = await scope.tx.fetchrow(OVERRIDE_WITH_KEY, idempotency_key)
        found = retried(earlier, (case_id, organisation_id, reason), ("case_id", "organisation_id", "reason"))
        if found is not None:
            return found
    await _serving_organisation(scope, organisation_id, field="organizationId")
    participants = {r["organisation_id"] for r in await scope.tx.fetch(PARTICIPANTS, case_id)}
    if organisation_id not in participants:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "organizationId", Message.NOT_A_PARTICIPANT)
    share_id = inserted(
        await scope.tx.fetchval(
            INSERT_OVERRIDE, uuid7(), case_id, organisation_id, reason, str(scope.caller.user_id), idempotency_key
        )
    )
    fields = ("case_id", "organisation_id", "basis", "reason")
    await audit.record(scope, action=OVERRIDE_ACTION, entity="case_share", entity_id=share_id, fields=fields)
    return share_id


# --- break the glass ------------------------------------------------------------------

EMERGENCY_ACTION = "emergency_access.open"
INSERT_ACCESS = """
INSERT INTO kizuna.emergency_access (municipality_code, id, case_id, subject, reason, expires_at, idempotency_key)
VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6), $7)
ON CONFLICT (municipality_code, subject, idempotency_key) DO NOTHING
RETURNING id"""
_ACCESS_COLUMNS = """
SELECT id, case_id, subject, reason, granted_at, expires_at FROM kizuna.emergency_access
WHERE municipality_code = $1"""
ACCESS_BY_ID = f"{_ACCESS_COLUMNS} AND id = $2"
# The newest 100: a supervisor reviews them as they come.
RECENT_ACCESSES = f"{_ACCESS_COLUMNS} ORDER BY granted_at DESC, id DESC LIMIT {MAX_LISTED}"


# The caller's own (an agency reads only its own accesses); `hours` as it was asked for.
ACCESS_WITH_KEY = """
SELECT id, case_id, reason, extract(epoch FROM expires_at - granted_at)::int / 3600 AS hours
FROM kizuna.emergency_access WHERE municipality_code = $1 AND subject = $2 AND idempotency_key = $3"""


async def do_open_emergency_access(
    scope: Scope, case_id: uuid.UUID, *, reason: str, hours: int, idempotency_key: str | None = None
) -> uuid.UUID:
    """Break the glass: the caller (an agency worker or SSW) reads the case's shared view
    for `hours` (at most 24), from their next request on, for the written reason; audited
    and listed for the supervisors. An unknown case and another tenant's are NOT_FOUND. A
    retry with the same idempotency key (the caller's own) gets the first access back."""
    _require(scope, Operation.OPEN_EMERGENCY_ACCESS)
    if len(reason.strip()) < MIN_EMERGENCY_REASON or len(reason) > MAX_REASON_LENGTH:
        raise Refused(
            UserErrorCode.BAD_USER_INPUT, "reason", Message.EMERGENCY_REASON,
            min=MIN_EMERGENCY_REASON, max=MAX_REASON_LENGTH,
        )  # fmt: skip
    if not 0 < hours <= MAX_EMERGENCY_HOURS:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "hours", Message.EMERGENCY_HOURS, max=MAX_EMERGENCY_HOURS)
    check_idempotency_key(idempotency_key)
    subject = str(scope.caller.user_id)
    if idempotency_key is not None:
        earlier = await scope.tx.fetchrow(ACCESS_WITH_KEY, subject, idempotency_key)
        found = retried(earlier, (case_id, reason, hours), ("case_id", "reason", "hours"))
        if found is not None:
            return found
    try:
        # Granted now by the database's clock (the column's default), as the policy reads it.
        access_id = inserted(
            await scope.tx.fetchval(INSERT_ACCESS, uuid7(), case_id, subject, reason, hours, idempotency_key)
        )
    except asyncpg.ForeignKeyViolationError:
        # The agency reads no case: the key is what says the case is not the tenant's.
        raise Refused(UserErrorCode.NOT_FOUND, "caseId", Message.NO_SUCH_CASE) from None
    fields = ("case_id", "subject", "reason", "granted_at", "expires_at")
    await audit.record(scope, action=EMERGENCY_ACTION, entity="emergency_access", entity_id=access_id, fields=fields)
    return access_id
