"""`municipalityStatus(fiscalYear:)`, `programmeActivities(fiscalYear:)` (the municipality's
own figures) and `submissions(fiscalYear:, state:)` (what waits for the prefecture: its
analyst sees its prefecture's municipalities, municipal staff their own)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import JusotekiStatus, ProgrammeKind, SubmissionStatus
from kizuna.schema.cost import ListSize
from kizuna.schema.permissions import Operation, require
from kizuna.schema.relay import encode_global_id, register_node
from kizuna.schema.stats.fiscal_years import fiscal_year_argument
from kizuna.schema.stats.types import FISCAL_YEARS_ASSUMED
from kizuna.schema.submissions import activities, service
from kizuna.schema.submissions.types import MunicipalityStatus, ProgrammeActivity, Submission
from kizuna.schema.tenants.types import MOST_MUNICIPALITIES, Municipality
from kizuna.tenants.registry import by_code


def to_status(row: asyncpg.Record) -> MunicipalityStatus:
    return MunicipalityStatus(
        fiscal_year=row["fiscal_year"],
        one_stop_window=row["one_stop_window"],
        complex_case_team=row["complex_case_team"],
        jusoteki=JusotekiStatus(row["jusoteki"]),
        carer_salons=row["carer_salons"],
        childrens_places=row["childrens_places"],
        young_carer_coordinators=row["young_carer_coordinators"],
        kodomo_katei_center=row["kodomo_katei_center"],
        advisor_dispatch=row["advisor_dispatch"],
        state=SubmissionStatus(row["submission"]),
        submitted_at=row["submitted_at"],
        decided_at=row["decided_at"],
        return_comment=row["return_comment"],
    )


def to_activity(row: asyncpg.Record) -> ProgrammeActivity:
    return ProgrammeActivity(
        id=strawberry.ID(encode_global_id("ProgrammeActivity", row["id"])),
        fiscal_year=row["fiscal_year"],
        kind=ProgrammeKind(row["kind"]),
        title=row["title"],
        held_on=row["held_on"],
        participants=row["participants"],
        companies=row["companies"],
        age_group=row["age_group"],
        percent=row["percent"],
    )


def to_submission(found: service.Submission) -> Submission:
    government = by_code(found.municipality_code)
    if government is None:  # every tenant is in the registry (its foreign key)
        raise LookupError(found.municipality_code)
    return Submission(
        municipality=Municipality.from_registry(government),
        fiscal_year=found.fiscal_year,
        figures=found.figures,
        state=found.state,
        submitted_at=found.submitted_at,
        decided_at=found.decided_at,
        return_comment=found.return_comment,
    )


@strawberry.type
class SubmissionQueries:
    @strawberry.field(description="この市町村の年度の体制整備の状況（まだ入力がなければ null）")
    async def municipality_status(self, info: Info[Scope, Any], fiscal_year: int) -> MunicipalityStatus | None:
        scope = info.context
        require(scope.caller, Operation.MUNICIPALITY_STATUS)
        row = await service.status_of_year(scope, fiscal_year_argument(fiscal_year))
        return None if row is None else to_status(row)

    @strawberry.field(
        description="この市町村の年度の事業の実績（実施日順、500件まで）",
        directives=[ListSize(assumed_size=activities.MAX_ROWS_A_YEAR)],
    )
    async def programme_activities(self, info: Info[Scope, Any], fiscal_year: int) -> list[ProgrammeActivity] | None:
        scope = info.context
        require(scope.caller, Operation.PROGRAMME_ACTIVITIES)
        return [to_activity(r) for r in await activities.activities_of_year(scope, fiscal_year_argument(fiscal_year))]

    @strawberry.field(
        description="提出の状況（市町村・年度ごと）。県の担当者は県内の市町村、市町村の職員は自分の市町村。"
        "state: SUBMITTED で承認待ち",
        # One a municipality and year, not capped: the years are an estimate.
        directives=[ListSize(assumed_size=MOST_MUNICIPALITIES * FISCAL_YEARS_ASSUMED)],
    )
    async def submissions(
        self,
        info: Info[Scope, Any],
        fiscal_year: int | None = None,
        state: SubmissionStatus | None = None,
    ) -> list[Submission] | None:
        scope = info.context
        require(scope.caller, Operation.SUBMISSIONS)
        year = None if fiscal_year is None else fiscal_year_argument(fiscal_year)
        found = await service.submissions(scope, fiscal_year=year, state=state)
        return [to_submission(s) for s in found]


async def _activity_node(scope: Scope, key: uuid.UUID) -> ProgrammeActivity | None:
    require(scope.caller, Operation.NODE_PROGRAMME_ACTIVITY)
    row = await scope.tx.fetchrow(activities.ACTIVITY_BY_ID, key)
    return None if row is None else to_activity(row)


register_node(
    "ProgrammeActivity", tag=70, graphql_type=ProgrammeActivity, table="programme_activity", resolve=_activity_node
)
