"""Submission and acceptance of a municipality's figures (issue 16, item 2; DESIGN
section 4, as DHIS2's data approval): its status (体制整備, `municipality_status`) and
its programme figures (`programme_activity`, their state in `programme_submission`) of a
fiscal year go draft → submitted → accepted, or returned with a comment, which the
municipality reads, corrects and submits again. Only accepted figures count in the
prefecture's totals.

- Coordinators and supervisors draft (a coordinator gathers the year's figures from the
  municipality's departments); only a supervisor submits, in their own name, as the
  municipality's answer to the prefecture.
- Nothing of the municipality changes a submitted or accepted submission. A correction of
  accepted figures: the prefecture sends them back (returns them, with the reason), the
  municipality corrects and submits again, the prefecture accepts again; meanwhile they do
  not count. The decisions are in the prefecture's audit log, the edits in the
  municipality's.
- The prefecture's analyst reads and decides the submissions of its own prefecture's
  municipalities only, and changes no figure.

The database holds the same (migration 0024: grants, column grants, per-role policies).
Statements over other tenants (`PREFECTURE_*`) carry the prefecture's own code prefix
(`left(municipality_code, 2) = left($1, 2)`, $1 being the analyst's tenant) and the
registry's codes (`municipality_code = ANY($2)` or `= $2`), which send Citus to those
shards; tests/test_lint_tenancy.py names this module for it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from kizuna.platform import audit
from kizuna.platform.i18n import Message
from kizuna.platform.ids import uuid7
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import JusotekiStatus, SubmissionStatus, SubmittedFigures
from kizuna.schema.errors import Refused, UserErrorCode
from kizuna.schema.permissions import Operation, may
from kizuna.schema.stats.fiscal_years import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR
from kizuna.schema.writes import check_text
from kizuna.tenants.registry import by_code, for_prefecture

MAX_COMMENT_LENGTH = 1000
SUBMITTED_STATES = ("submitted",)
# The prefecture may also send accepted figures back, for a correction.
RETURNABLE_STATES = ("submitted", "accepted")

_STATUS = """
SELECT id, municipality_code, fiscal_year, one_stop_window, complex_case_team, jusoteki, carer_salons,
       childrens_places, young_carer_coordinators, kodomo_katei_center, advisor_dispatch, submission,
       submitted_at, decided_at, return_comment"""
STATUS_OF_YEAR = f"{_STATUS}\nFROM kizuna.municipality_status WHERE municipality_code = $1 AND fiscal_year = $2"
INSERT_STATUS = """
INSERT INTO kizuna.municipality_status
    (municipality_code, id, fiscal_year, one_stop_window, complex_case_team, jusoteki, carer_salons,
     childrens_places, young_carer_coordinators, kodomo_katei_center, advisor_dispatch, submission)
VALUES ($1, $2, $3, $4, $5, $6::kizuna.jusoteki_status, $7, $8, $9, $10, $11, 'draft')
ON CONFLICT (municipality_code, fiscal_year) DO NOTHING
RETURNING id
"""
UPDATE_STATUS = """
UPDATE kizuna.municipality_status
SET one_stop_window = $3, complex_case_team = $4, jusoteki = $5::kizuna.jusoteki_status, carer_salons = $6,
    childrens_places = $7, young_carer_coordinators = $8, kodomo_katei_center = $9, advisor_dispatch = $10
WHERE municipality_code = $1 AND fiscal_year = $2 AND submission IN ('draft', 'returned')
RETURNING id
"""
SUBMIT_STATUS = """
UPDATE kizuna.municipality_status
SET submission = 'submitted', submitted_at = now(), submitted_by = $3, decided_at = NULL
WHERE municipality_code = $1 AND fiscal_year = $2 AND submission IN ('draft', 'returned')
RETURNING id
"""

_PROGRAMME_SUBMISSION = """
SELECT id, municipality_code, fiscal_year, submission, submitted_at, decided_at, return_comment"""
PROGRAMME_SUBMISSION_OF_YEAR = (
    f"{_PROGRAMME_SUBMISSION}\nFROM kizuna.programme_submission WHERE municipality_code = $1 AND fiscal_year = $2"
)
INSERT_PROGRAMME_SUBMISSION = """
INSERT INTO kizuna.programme_submission (municipality_code, id, fiscal_year, submission, submitted_at, submitted_by)
VALUES ($1, $2, $3, 'submitted', now(), $4)
ON CONFLICT (municipality_code, fiscal_year) DO NOTHING
RETURNING id
"""
SUBMIT_PROGRAMMES = """
UPDATE kizuna.programme_submission
SET submission = 'submitted', submitted_at = now(), submitted_by = $3, decided_at = NULL
WHERE municipality_code = $1 AND fiscal_year = $2 AND submission IN ('draft', 'returned')
RETURNING id
"""

# The caller's own tenant's submissions: a municipality's view.
OWN_STATUS_SUBMISSIONS = f"""{_STATUS}
FROM kizuna.municipality_status
WHERE municipality_code = $1 AND ($2::smallint IS NULL OR fiscal_year = $2)
  AND ($3::kizuna.submission_status IS NULL OR submission = $3)
ORDER BY fiscal_year"""
OWN_PROGRAMME_SUBMISSIONS = f"""{_PROGRAMME_SUBMISSION}
FROM kizuna.programme_submission
WHERE municipality_code = $1 AND ($2::smallint IS NULL OR fiscal_year = $2)
  AND ($3::kizuna.submission_status IS NULL OR submission = $3)
ORDER BY fiscal_year"""

# The prefecture's view: its municipalities' submissions ($2: the registry's codes).
PREFECTURE_STATUS_SUBMISSIONS = f"""{_STATUS}
FROM kizuna.municipality_status
WHERE left(municipality_code, 2) = left($1, 2) AND municipality_code = ANY($2::text[])
  AND ($3::smallint IS NULL OR fiscal_year = $3) AND ($4::kizuna.submission_status IS NULL OR submission = $4)
ORDER BY municipality_code, fiscal_year"""
PREFECTURE_PROGRAMME_SUBMISSIONS = f"""{_PROGRAMME_SUBMISSION}
FROM kizuna.programme_submission
WHERE left(municipality_code, 2) = left($1, 2) AND municipality_code = ANY($2::text[])
  AND ($3::smallint IS NULL OR fiscal_year = $3) AND ($4::kizuna.submission_status IS NULL OR submission = $4)
ORDER BY municipality_code, fiscal_year"""
PREFECTURE_STATUS_OF_YEAR = f"""{_STATUS}
FROM kizuna.municipality_status
WHERE left(municipality_code, 2) = left($1, 2) AND municipality_code = $2 AND fiscal_year = $3"""
PREFECTURE_PROGRAMME_SUBMISSION_OF_YEAR = f"""{_PROGRAMME_SUBMISSION}
FROM kizuna.programme_submission
WHERE left(municipality_code, 2) = left($1, 2) AND municipality_code = $2 AND fiscal_year = $3"""
PREFECTURE_DECIDES_STATUS = """
UPDATE kizuna.municipality_status
SET submission = $4::kizuna.submission_status, decided_at = now(), decided_by = $5,
    return_comment = coalesce($6, return_comment)
WHERE left(municipality_code, 2) = left($1, 2) AND municipality_code = $2 AND fiscal_year = $3
  AND submission = ANY($7::kizuna.submission_status[])
RETURNING id
"""
PREFECTURE_DECIDES_PROGRAMMES = """
UPDATE kizuna.programme_submission
SET submission = $4::kizuna.submission_status, decided_at = now(), decided_by = $5,
    return_comment = coalesce($6, return_comment)
WHERE left(municipality_code, 2) = left($1, 2) AND municipality_code = $2 AND fiscal_year = $3
  AND submission = ANY($7::kizuna.submission_status[])
RETURNING id
"""
DECIDE = {
    SubmittedFigures.MUNICIPALITY_STATUS: (PREFECTURE_STATUS_OF_YEAR, PREFECTURE_DECIDES_STATUS),
    SubmittedFigures.PROGRAMMES: (PREFECTURE_PROGRAMME_SUBMISSION_OF_YEAR, PREFECTURE_DECIDES_PROGRAMMES),
}
AUDITED_ENTITY = {
    SubmittedFigures.MUNICIPALITY_STATUS: "municipality_status",
    SubmittedFigures.PROGRAMMES: "programme_submission",
}
STATUS_FIELDS = (
    "fiscal_year",
    "one_stop_window",
    "complex_case_team",
    "jusoteki",
    "carer_salons",
    "childrens_places",
    "young_carer_coordinators",
    "kodomo_katei_center",
    "advisor_dispatch",
)


@dataclass(frozen=True, slots=True)
class StatusFigures:
    """体制整備 of a fiscal year, as a municipality enters it."""

    one_stop_window: bool
    complex_case_team: bool
    jusoteki: JusotekiStatus
    carer_salons: int
    childrens_places: int
    young_carer_coordinators: int
    kodomo_katei_center: bool
    advisor_dispatch: bool


@dataclass(frozen=True, slots=True)
class Submission:
    """One municipality's figures of one fiscal year, and how they stand."""

    figures: SubmittedFigures
    municipality_code: str
    fiscal_year: int
    state: SubmissionStatus
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    return_comment: str | None


def check_fiscal_year(fiscal_year: int, *, field: str = "fiscalYear") -> None:
    if not FIRST_FISCAL_YEAR <= fiscal_year <= LAST_FISCAL_YEAR:
        raise Refused(
            UserErrorCode.BAD_USER_INPUT,
            field,
            Message.FISCAL_YEAR_RANGE,
            first=FIRST_FISCAL_YEAR,
            last=LAST_FISCAL_YEAR,
        )


def is_prefecture(scope: Scope) -> bool:
    government = by_code(scope.caller.municipality_code)
    return government is not None and government.is_prefecture


def prefecture_municipalities(scope: Scope) -> list[str]:
    """The codes of the municipalities of the caller's prefecture (not the prefecture itself)."""
    return [g.code for g in for_prefecture(scope.caller.municipality_code[:2]) if not g.is_prefecture]


def _submission(figures: SubmittedFigures, row: asyncpg.Record) -> Submission:
    return Submission(
        figures=figures,
        municipality_code=row["municipality_code"],
        fiscal_year=row["fiscal_year"],
        state=SubmissionStatus(row["submission"]),
        submitted_at=row["submitted_at"],
        decided_at=row["decided_at"],
        return_comment=row["return_comment"],
    )


async def submissions(scope: Scope, *, fiscal_year: int | None, state: SubmissionStatus | None) -> list[Submission]:
    """The submissions the caller may see: the prefecture's municipalities' for its analyst,
    the caller's own municipality's otherwise; by municipality, year, and what they hold."""
    found: list[Submission] = []
    state_value = None if state is None else state.value
    if is_prefecture(scope):
        codes = prefecture_municipalities(scope)
        status = await scope.tx.fetch(PREFECTURE_STATUS_SUBMISSIONS, codes, fiscal_year, state_value)
        programmes = await scope.tx.fetch(PREFECTURE_PROGRAMME_SUBMISSIONS, codes, fiscal_year, state_value)
    else:
        status = await scope.tx.fetch(OWN_STATUS_SUBMISSIONS, fiscal_year, state_value)
        programmes = await scope.tx.fetch(OWN_PROGRAMME_SUBMISSIONS, fiscal_year, state_value)
    found += [_submission(SubmittedFigures.MUNICIPALITY_STATUS, r) for r in status]
    found += [_submission(SubmittedFigures.PROGRAMMES, r) for r in programmes]
    return sorted(found, key=lambda s: (s.municipality_code, s.fiscal_year, s.figures.value))


async def status_of_year(scope: Scope, fiscal_year: int) -> asyncpg.Record | None:
    return await scope.tx.fetchrow(STATUS_OF_YEAR, fiscal_year)


def _check_counts(figures: StatusFigures) -> None:
    for field, value in (
        ("carerSalons", figures.carer_salons),
        ("childrensPlaces", figures.childrens_places),
        ("youngCarerCoordinators", figures.young_carer_coordinators),
    ):
        if value < 0:
            raise Refused(UserErrorCode.BAD_USER_INPUT, field, Message.COUNT_NOT_NEGATIVE)


async def do_save_status(scope: Scope, fiscal_year: int, figures: StatusFigures) -> uuid.UUID:
    """Enter (or correct) the year's status: a draft the first time; a draft or returned
    one keeps its state; a submitted or accepted one is refused (CONFLICT)."""
    if not may(scope.role, Operation.SAVE_MUNICIPALITY_STATUS):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.MAY_NOT_DRAFT_FIGURES)
    check_fiscal_year(fiscal_year)
    _check_counts(figures)
    values = (
        figures.one_stop_window,
        figures.complex_case_team,
        figures.jusoteki.value,
        figures.carer_salons,
        figures.childrens_places,
        figures.young_carer_coordinators,
        figures.kodomo_katei_center,
        figures.advisor_dispatch,
    )
    row_id: uuid.UUID | None = await scope.tx.fetchval(INSERT_STATUS, uuid7(), fiscal_year, *values)
    action = "municipality_status.create"
    if row_id is None:  # the year's row exists: correct it while it is open
        row_id = await scope.tx.fetchval(UPDATE_STATUS, fiscal_year, *values)
        action = "municipality_status.update"
        if row_id is None:
            raise Refused(UserErrorCode.CONFLICT, "fiscalYear", Message.FIGURES_NOT_OPEN)
    await audit.record(scope, action=action, entity="municipality_status", entity_id=row_id, fields=STATUS_FIELDS)
    return row_id


async def do_submit_status(scope: Scope, fiscal_year: int) -> uuid.UUID:
    """A supervisor submits the year's status (a draft, or returned and corrected)."""
    if not may(scope.role, Operation.SUBMIT_MUNICIPALITY_STATUS):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.ONLY_SUPERVISOR_SUBMITS)
    check_fiscal_year(fiscal_year)
    row_id: uuid.UUID | None = await scope.tx.fetchval(SUBMIT_STATUS, fiscal_year, scope.caller.user_id)
    if row_id is None:
        if await status_of_year(scope, fiscal_year) is None:
            raise Refused(UserErrorCode.NOT_FOUND, "fiscalYear", Message.NOTHING_TO_SUBMIT)
        raise Refused(UserErrorCode.CONFLICT, "fiscalYear", Message.FIGURES_NOT_OPEN)
    fields = ("submission", "submitted_at", "submitted_by", "decided_at")
    await audit.record(
        scope, action="municipality_status.submit", entity="municipality_status", entity_id=row_id, fields=fields
    )
    return row_id


async def programme_submission_of_year(scope: Scope, fiscal_year: int) -> asyncpg.Record | None:
    return await scope.tx.fetchrow(PROGRAMME_SUBMISSION_OF_YEAR, fiscal_year)


async def check_programmes_open(scope: Scope, fiscal_year: int, *, field: str) -> None:
    """Refuse a change to a year's programme figures once submitted or accepted (CONFLICT)."""
    submission = await programme_submission_of_year(scope, fiscal_year)
    if submission is not None and submission["submission"] not in ("draft", "returned"):
        raise Refused(UserErrorCode.CONFLICT, field, Message.FIGURES_NOT_OPEN)


async def do_submit_programmes(scope: Scope, fiscal_year: int) -> uuid.UUID:
    """A supervisor submits the year's programme figures (whatever is recorded, none included)."""
    if not may(scope.role, Operation.SUBMIT_PROGRAMME_FIGURES):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.ONLY_SUPERVISOR_SUBMITS)
    check_fiscal_year(fiscal_year)
    me = scope.caller.user_id
    row_id: uuid.UUID | None = await scope.tx.fetchval(INSERT_PROGRAMME_SUBMISSION, uuid7(), fiscal_year, me)
    if row_id is None:
        row_id = await scope.tx.fetchval(SUBMIT_PROGRAMMES, fiscal_year, me)
        if row_id is None:
            raise Refused(UserErrorCode.CONFLICT, "fiscalYear", Message.FIGURES_NOT_OPEN)
    fields = ("submission", "submitted_at", "submitted_by", "decided_at")
    await audit.record(
        scope, action="programme_submission.submit", entity="programme_submission", entity_id=row_id, fields=fields
    )
    return row_id


def _access_municipality(scope: Scope, municipality_code: str) -> str:
    """A municipality of the analyst's own prefecture; any other code (another prefecture's,
    the prefecture itself, unknown) is refused alike (NOT_FOUND)."""
    if municipality_code not in prefecture_municipalities(scope):
        raise Refused(UserErrorCode.NOT_FOUND, "municipalityCode", Message.NO_SUCH_SUBMISSION)
    return municipality_code


async def access_submission(
    scope: Scope, figures: SubmittedFigures, municipality_code: str, fiscal_year: int
) -> Submission:
    """A submission of the analyst's prefecture; another prefecture's and a missing one are
    refused alike (NOT_FOUND on `municipalityCode`)."""
    code = _access_municipality(scope, municipality_code)
    check_fiscal_year(fiscal_year)
    row = await scope.tx.fetchrow(DECIDE[figures][0], code, fiscal_year)
    if row is None or row["submission"] == SubmissionStatus.DRAFT.value:
        raise Refused(UserErrorCode.NOT_FOUND, "municipalityCode", Message.NO_SUCH_SUBMISSION)
    return _submission(figures, row)


async def do_decide(
    scope: Scope,
    figures: SubmittedFigures,
    municipality_code: str,
    fiscal_year: int,
    *,
    accept: bool,
    comment: str | None,
) -> Submission:
    """The prefecture's analyst accepts a submitted one, or returns a submitted or accepted
    one with its reason (kept on the row for the municipality to read). Audited in the
    prefecture's log."""
    if not may(scope.role, Operation.ACCEPT_SUBMISSION if accept else Operation.RETURN_SUBMISSION):
        raise Refused(UserErrorCode.FORBIDDEN, None, Message.ONLY_PREFECTURE_DECIDES)
    if not accept and comment is None:
        raise Refused(UserErrorCode.BAD_USER_INPUT, "comment", Message.RETURN_NEEDS_COMMENT, max=MAX_COMMENT_LENGTH)
    if comment is not None:
        check_text(comment, field="comment", message=Message.RETURN_NEEDS_COMMENT, most=MAX_COMMENT_LENGTH)
    current = await access_submission(scope, figures, municipality_code, fiscal_year)
    allowed: Sequence[str] = SUBMITTED_STATES if accept else RETURNABLE_STATES
    if current.state.value not in allowed:
        raise Refused(UserErrorCode.CONFLICT, "municipalityCode", Message.NOT_SUBMITTED)
    state = SubmissionStatus.ACCEPTED if accept else SubmissionStatus.RETURNED
    row_id: uuid.UUID | None = await scope.tx.fetchval(
        DECIDE[figures][1],
        current.municipality_code,
        fiscal_year,
        state.value,
        scope.caller.user_id,
        comment,
        list(allowed),
    )
    if row_id is None:  # decided by another request meanwhile
        raise Refused(UserErrorCode.CONFLICT, "municipalityCode", Message.NOT_SUBMITTED)
    entity = AUDITED_ENTITY[figures]
    await audit.record(
        scope,
        action=f"{entity}.{'accept' if accept else 'return'}",
        entity=entity,
        entity_id=row_id,
        fields=("submission", "decided_at", "decided_by", "return_comment"),
    )
    return await access_submission(scope, figures, municipality_code, fiscal_year)
