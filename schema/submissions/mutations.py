"""The municipality enters and submits its figures of a fiscal year; the prefecture's
analyst accepts them or sends them back with the reason. Each audited in the request's
transaction; a broken rule is a user error and writes nothing."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.i18n import Message
from kizuna.platform.scope import Scope
from kizuna.platform.vocabulary import SubmittedFigures
from kizuna.schema.errors import Refused
from kizuna.schema.submissions import activities, service
from kizuna.schema.submissions.queries import to_activity, to_status, to_submission
from kizuna.schema.submissions.types import (
    AcceptSubmissionInput,
    MunicipalityStatusPayload,
    ProgrammeActivityPayload,
    RecordProgrammeActivityInput,
    RemoveProgrammeActivityInput,
    RemoveProgrammeActivityPayload,
    ReturnSubmissionInput,
    SaveMunicipalityStatusInput,
    SubmissionPayload,
    SubmitMunicipalityStatusInput,
    SubmitProgrammeFiguresInput,
)
from kizuna.schema.writes import input_key


async def _status_payload(scope: Scope, fiscal_year: int) -> MunicipalityStatusPayload:
    row = await service.status_of_year(scope, fiscal_year)
    return MunicipalityStatusPayload(municipality_status=None if row is None else to_status(row))


@strawberry.type
class SubmissionMutations:
    @strawberry.mutation(description="年度の体制整備の状況を入力・修正する（作成中か差戻しの間）。監査記録を残す")
    async def save_municipality_status(
        self,
        info: Info[Scope, Any],
        input: SaveMunicipalityStatusInput,  # noqa: A002  (Relay's name for a mutation's one argument)
    ) -> MunicipalityStatusPayload:
        scope = info.context
        figures = service.StatusFigures(
            one_stop_window=input.one_stop_window,
            complex_case_team=input.complex_case_team,
            jusoteki=input.jusoteki,
            carer_salons=input.carer_salons,
            childrens_places=input.childrens_places,
            young_carer_coordinators=input.young_carer_coordinators,
            kodomo_katei_center=input.kodomo_katei_center,
            advisor_dispatch=input.advisor_dispatch,
        )
        try:
            await service.do_save_status(scope, input.fiscal_year, figures)
        except Refused as refusal:
            return MunicipalityStatusPayload.refused(refusal, scope)
        return await _status_payload(scope, input.fiscal_year)

    @strawberry.mutation(description="年度の体制整備の状況を県に提出する（スーパーバイザー）。監査記録を残す")
    async def submit_municipality_status(
        self,
        info: Info[Scope, Any],
        input: SubmitMunicipalityStatusInput,  # noqa: A002
    ) -> MunicipalityStatusPayload:
        scope = info.context
        try:
            await service.do_submit_status(scope, input.fiscal_year)
        except Refused as refusal:
            return MunicipalityStatusPayload.refused(refusal, scope)
        return await _status_payload(scope, input.fiscal_year)

    @strawberry.mutation(description="事業の実績を登録する（年度が作成中か差戻しの間）。監査記録を残す")
    async def record_programme_activity(
        self,
        info: Info[Scope, Any],
        input: RecordProgrammeActivityInput,  # noqa: A002
    ) -> ProgrammeActivityPayload:
        scope = info.context
        figures = activities.ActivityFigures(
            fiscal_year=input.fiscal_year,
            kind=input.kind,
            title=input.title,
            held_on=input.held_on,
            participants=input.participants,
            companies=input.companies,
            age_group=input.age_group,
            percent=input.percent,
        )
        try:
            activity_id = await activities.do_record_activity(scope, figures, input.idempotency_key)
        except Refused as refusal:
            return ProgrammeActivityPayload.refused(refusal, scope)
        row = await activities.access_activity(scope, activity_id)
        return ProgrammeActivityPayload(programme_activity=to_activity(row))

    @strawberry.mutation(description="事業の実績を取り消す（年度が作成中か差戻しの間）。監査記録を残す")
    async def remove_programme_activity(
        self,
        info: Info[Scope, Any],
        input: RemoveProgrammeActivityInput,  # noqa: A002
    ) -> RemoveProgrammeActivityPayload:
        scope = info.context
        try:
            key = input_key(input.id, "ProgrammeActivity", field="id", not_found=Message.NO_SUCH_PROGRAMME_ACTIVITY)
            await activities.do_remove_activity(scope, key)
        except Refused as refusal:
            return RemoveProgrammeActivityPayload.refused(refusal, scope)
        return RemoveProgrammeActivityPayload(removed_id=input.id)

    @strawberry.mutation(description="年度の事業の実績を県に提出する（スーパーバイザー）。監査記録を残す")
    async def submit_programme_figures(
        self,
        info: Info[Scope, Any],
        input: SubmitProgrammeFiguresInput,  # noqa: A002
    ) -> SubmissionPayload:
        scope = info.context
        try:
            await service.do_submit_programmes(scope, input.fiscal_year)
        except Refused as refusal:
            return SubmissionPayload.refused(refusal, scope)
        found = await service.submissions(scope, fiscal_year=input.fiscal_year, state=None)
        mine = [s for s in found if s.figures is SubmittedFigures.PROGRAMMES]
        return SubmissionPayload(submission=to_submission(mine[0]) if mine else None)

    @strawberry.mutation(
        description="市町村が提出した数値を承認する（県の担当者）。承認すると県の集計に入る。監査記録を残す"
    )
    async def accept_submission(
        self,
        info: Info[Scope, Any],
        input: AcceptSubmissionInput,  # noqa: A002
    ) -> SubmissionPayload:
        scope = info.context
        try:
            decided = await service.do_decide(
                scope, input.figures, input.municipality_code, input.fiscal_year, accept=True, comment=None
            )
        except Refused as refusal:
            return SubmissionPayload.refused(refusal, scope)
        return SubmissionPayload(submission=to_submission(decided))

    @strawberry.mutation(description="市町村の数値を理由を付けて差し戻す（県の担当者）。監査記録を残す")
    async def return_submission(
        self,
        info: Info[Scope, Any],
        input: ReturnSubmissionInput,  # noqa: A002
    ) -> SubmissionPayload:
        scope = info.context
        try:
            decided = await service.do_decide(
                scope, input.figures, input.municipality_code, input.fiscal_year, accept=False, comment=input.comment
            )
        except Refused as refusal:
            return SubmissionPayload.refused(refusal, scope)
        return SubmissionPayload(submission=to_submission(decided))
