"""`/inbox`: a caseworker's or coordinator's day (issue 17, item 2), and `/` for them.

The referrals waiting to be taken in, each with its three forms: accept (into a new case,
for a person recorded on the spot or one of the candidates the API names as the same
person, or into an existing case), decline with a reason, merge into an accepted referral;
the visitor's own cases (as worker or coordinator), every one counted by stage; the
reviews due (each listed case's latest meeting's next review date); the helper visits of
this week. Everything is the answer of the registered documents `inbox*.graphql`; every
form posts to a route here that runs its mutation through `documents.run` (the session's
same-origin rule holds: a POST is never a navigation), shows each `userError` beside its
field (answered 400, as every page's form), and redirects (303) on success.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from kizuna.platform import wareki
from kizuna.platform.i18n import Language, Message
from kizuna.platform.vocabulary import AppRole, CarerCategory, CareTask, CaseStage, ReferralSource, Urgency
from kizuna.schema.http import GraphQLEndpoint
from kizuna.schema.pages import documents, rendering
from kizuna.schema.pages.documents import PageRefused
from kizuna.schema.pages.visitor import Visitor, visitor

# The API lets a supervisor take referrals in too; a supervisor's start is the desk
# (pages-supervisor). The inbox is the caseworker's and the coordinator's page.
ROLES = frozenset({AppRole.CASEWORKER, AppRole.COORDINATOR})
PATH = "/inbox"
# What a person must give to be recorded (CreatePersonInput), in the form's order.
PERSON_FIELDS = ("familyName", "givenName", "familyNameKana", "givenNameKana", "birthDate", "householdName")
NEW, EXISTING = "new", "existing"


def _date(value: str) -> dt.date:
    """An answer's Date."""
    return dt.date.fromisoformat(value)


def _day(value: str) -> dt.date:
    """The day in Japan of an answer's DateTime (its UTC date may be the day before)."""
    return wareki.in_japan(value).date()


@dataclass(frozen=True, slots=True)
class ReferralLine:
    id: str
    received: str
    urgency: str
    urgent: bool
    source: str
    referrer: str | None
    child: str
    noticed: str
    care_tasks: str
    family_aware: str


@dataclass(frozen=True, slots=True)
class CaseLine:
    id: str
    person: str
    stage: str
    category: str
    worker: str | None
    opened: str


@dataclass(frozen=True, slots=True)
class StageCount:
    stage: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class ReviewLine:
    case: CaseLine
    due: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class VisitLine:
    case_id: str
    person: str
    visited: str
    minutes: int


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    name: str
    kana: str
    birth: str


@dataclass(slots=True)
class FormState:
    """A form posted back with what the visitor typed and what the API said of it."""

    referral_id: str
    action: str
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    candidates: tuple[Candidate, ...] = ()

    def error(self, name: str) -> str | None:
        return self.errors.get(name)


@dataclass(frozen=True, slots=True)
class Inbox:
    referrals: tuple[ReferralLine, ...]
    waiting: int
    """How many referrals wait in all (the page lists the newest 50)."""
    stages: tuple[StageCount, ...]
    cases: tuple[CaseLine, ...]
    total_cases: int
    reviews: tuple[ReviewLine, ...]
    visits: tuple[VisitLine, ...]
    week: str
    categories: tuple[tuple[str, str], ...]
    open_cases: tuple[CaseLine, ...]
    accepted: tuple[ReferralLine, ...]
    """Referrals accepted into a case: what a new one about the same person merges into."""


def week_of(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday to Sunday of `today`'s week (the ISO week, as helper visits count it)."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)


def shape(data: dict[str, Any], today: dt.date) -> Inbox:
    """The page from the answer to `Inbox`, with `today` Japan's day."""
    cases = [
        CaseLine(
            id=node["id"],
            person=f"{node['person']['familyName']} {node['person']['givenName']}",
            stage=CaseStage[node["stage"]].label,
            category=CarerCategory[node["category"]].label,
            worker=(node["assignedWorker"] or {}).get("displayName"),
            opened=wareki.date_label(_day(node["openedAt"])),
        )
        for node in data["cases"]["nodes"]
    ]
    by_id = dict(zip((node["id"] for node in data["cases"]["nodes"]), cases, strict=True))
    stages = tuple(
        StageCount(count["stage"], CaseStage[count["stage"]].label, count["count"])
        for count in data["cases"]["stageCounts"]
    )
    due = sorted(
        (_date(node["latestMeeting"]["nextReviewOn"]), node["id"])
        for node in data["cases"]["nodes"]
        if node["latestMeeting"] and node["latestMeeting"]["nextReviewOn"] and node["stage"] != CaseStage.CLOSED.name
    )
    monday, sunday = week_of(today)
    return Inbox(
        referrals=tuple(_referral(node) for node in data["waiting"]["nodes"]),
        waiting=data["waiting"]["totalCount"],
        stages=stages,
        cases=tuple(cases),
        total_cases=data["cases"]["totalCount"] or 0,
        reviews=tuple(ReviewLine(by_id[case_id], wareki.date_label(day), day < today) for day, case_id in due),
        visits=tuple(
            VisitLine(
                visit["caseId"],
                by_id[visit["caseId"]].person if visit["caseId"] in by_id else "",
                wareki.date_label(_date(visit["visitedOn"])),
                visit["minutes"],
            )
            for visit in data["helperVisits"] or ()
        ),
        week=f"{wareki.date_label(monday)}〜{wareki.date_label(sunday)}",
        categories=tuple((category.name, category.label) for category in CarerCategory),
        accepted=tuple(_referral(node) for node in data["accepted"]["nodes"]),
        open_cases=tuple(
            line for line, node in zip(cases, data["cases"]["nodes"], strict=True) if node["stage"] != "CLOSED"
        ),
    )


def _referral(node: dict[str, Any]) -> ReferralLine:
    aware = node["familyAware"]
    return ReferralLine(
        id=node["id"],
        received=wareki.date_label(_day(node["receivedAt"])),
        urgency=Urgency[node["urgency"]].label,
        urgent=node["urgency"] == Urgency.URGENT.name,
        source=ReferralSource[node["source"]].label,
        referrer=(node["referrerOrganization"] or {}).get("name"),
        child=node["childDisplayName"] or "",
        noticed=node["noticed"],
        care_tasks="、".join(CareTask[task].label for task in node["careTasks"]) or "記載なし",
        family_aware="わからない" if aware is None else ("知っている" if aware else "知らない"),
    )


class InvalidForm(Exception):
    """A form's value that cannot be sent at all; nothing was run."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _user_errors(errors: list[dict[str, Any]]) -> dict[str, str]:
    """Each userError by the input field it names (`input.reason` → `reason`); one that
    names no field is the form's (`form`)."""
    shown: dict[str, str] = {}
    for error in errors:
        name = (error.get("field") or "form").removeprefix("input.")
        shown.setdefault(name, error["message"])
    return shown


class InboxPages:
    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint

    def routes(self) -> list[Route]:
        return [
            Route(PATH, self.get, methods=["GET"]),
            Route(f"{PATH}/accept", self.accept, methods=["POST"]),
            Route(f"{PATH}/decline", self.decline, methods=["POST"]),
            Route(f"{PATH}/merge", self.merge, methods=["POST"]),
        ]

    async def get(self, request: Request) -> Response:
        who = await visitor(request, Language.JA)
        return await self.page(request, who)

    async def page(self, request: Request, who: Visitor | None, posted: FormState | None = None) -> Response:
        """The inbox in Japanese (its labels are the vocabulary's), with `posted` shown
        back beside its referral when the API did not take it."""
        request_id = uuid.uuid4().hex
        try:
            self._allowed(who, request_id)
            today = dt.datetime.now(wareki.JAPAN).date()  # the day and week a caseworker means
            monday, sunday = week_of(today)
            variables = {"from": monday.isoformat(), "to": sunday.isoformat()}
            content = shape(await documents.run(self.endpoint, request, "inbox", request_id, variables), today)
        except PageRefused as refused:
            return _refusal(request, who, refused)
        context = {"visitor": who, "page": content, "posted": posted, "keys": _keys(content), "path": PATH}
        # A form shown back with what to fix was not taken: 400, as on every page.
        status = 200 if posted is None else 400
        return rendering.render(request, "inbox/inbox.html", Language.JA, context, status=status)

    @staticmethod
    def _allowed(who: Visitor | None, request_id: str) -> None:
        """Before anything is read or sent: signed in, and a caseworker or coordinator."""
        if who is None:
            raise PageRefused(401, Message.PAGE_SIGN_IN_NEEDED, request_id=request_id, sign_in=True)
        if who.caller is None or who.caller.role not in ROLES:
            raise PageRefused(403, Message.PAGE_NOT_AVAILABLE, request_id=request_id)

    async def accept(self, request: Request) -> Response:
        who = await visitor(request, Language.JA)
        request_id = uuid.uuid4().hex
        try:
            self._allowed(who, request_id)
        except PageRefused as refused:
            return _refusal(request, who, refused)
        form = await request.form()
        state = FormState(_text(form, "id"), "accept", {name: _text(form, name) for name in form if name != "id"})
        try:
            variables = self._acceptance(state)
            if state.values.get("into") == NEW and not state.values.get("personId"):
                person = await self._record_person(request, request_id, state)
                if person is None:
                    return await self.page(request, who, state)
                variables["personId"] = person
            answer = await documents.run(
                self.endpoint, request, "inbox_accept_referral", request_id, {"input": variables}
            )
        except PageRefused as refused:
            return _refusal(request, who, refused)
        except InvalidForm as invalid:
            state.errors = invalid.errors
            return await self.page(request, who, state)
        errors = answer["acceptReferral"]["userErrors"]
        if errors:
            state.errors = _user_errors(errors)
            return await self.page(request, who, state)
        return RedirectResponse(PATH, status_code=303)

    @staticmethod
    def _acceptance(state: FormState) -> dict[str, Any]:
        """AcceptReferralInput from the form, but for the person of a new case when they
        are recorded first."""
        values = state.values
        if values.get("into") == EXISTING:
            if not values.get("caseId"):
                raise InvalidForm({"caseId": "受理先のケースを選んでください。"})
            return {"id": state.referral_id, "caseId": values["caseId"]}
        if values.get("into") != NEW:
            raise InvalidForm({"into": "新しいケースか既存のケースかを選んでください。"})
        if values.get("category") not in CarerCategory.__members__:
            raise InvalidForm({"category": "ケアラー区分を選んでください。"})
        acceptance: dict[str, Any] = {"id": state.referral_id, "category": values["category"]}
        if values.get("personId"):
            acceptance["personId"] = values["personId"]
            return acceptance
        missing = {name: "入力してください。" for name in PERSON_FIELDS if not values.get(name)}
        if missing:
            raise InvalidForm(missing)
        try:
            dt.date.fromisoformat(values["birthDate"])
        except ValueError:
            raise InvalidForm({"birthDate": "生年月日は 2012-04-01 の形で入力してください。"}) from None
        return acceptance

    async def _record_person(self, request: Request, request_id: str, state: FormState) -> str | None:
        """The new person's id; None when the API names candidates (the same name and
        birth date) or refuses a field: the form then shows them."""
        values = state.values
        person = {name: values[name] for name in PERSON_FIELDS} | {
            "confirmedNotDuplicate": values.get("confirmedNotDuplicate") == "on",
            "idempotencyKey": values.get("idempotencyKey") or None,
        }
        answer = await documents.run(self.endpoint, request, "inbox_create_person", request_id, {"input": person})
        created = answer["createPerson"]
        if created["duplicates"]:
            # The API's own message names its input flag; the form says it with its checkbox.
            state.candidates = tuple(
                Candidate(
                    c["id"],
                    f"{c['familyName']} {c['givenName']}",
                    f"{c['familyNameKana']} {c['givenNameKana']}",
                    wareki.date_label(_date(c["birthDate"])),
                )
                for c in created["duplicates"]
            )
            state.errors = {"personId": "同じ氏名と生年月日の人が登録されています。同じ人なら選んでください。"}
            return None
        if created["userErrors"] or created["person"] is None:
            state.errors = _user_errors(created["userErrors"])
            return None
        person_id: str = created["person"]["id"]
        return person_id

    async def decline(self, request: Request) -> Response:
        return await self._decision(request, "decline", "inbox_decline_referral", "declineReferral", "reason")

    async def merge(self, request: Request) -> Response:
        return await self._decision(request, "merge", "inbox_merge_referral", "mergeReferral", "intoId")

    async def _decision(self, request: Request, action: str, document: str, mutation: str, name: str) -> Response:
        """Decline (with a reason) or merge (into an accepted referral): one value besides the id."""
        who = await visitor(request, Language.JA)
        request_id = uuid.uuid4().hex
        try:
            self._allowed(who, request_id)
        except PageRefused as refused:
            return _refusal(request, who, refused)
        form = await request.form()
        state = FormState(_text(form, "id"), action, {name: _text(form, name)})
        if not state.values[name]:
            state.errors = {name: "入力してください。"}
            return await self.page(request, who, state)
        variables = {"input": {"id": state.referral_id, name: state.values[name]}}
        try:
            answer = await documents.run(self.endpoint, request, document, request_id, variables)
        except PageRefused as refused:
            return _refusal(request, who, refused)
        if answer[mutation]["userErrors"]:
            state.errors = _user_errors(answer[mutation]["userErrors"])
            return await self.page(request, who, state)
        return RedirectResponse(PATH, status_code=303)


def _keys(content: Inbox) -> dict[str, str]:
    """A fresh idempotency key per referral's accept form: a double submit records the
    person once (the API answers a resent key with its first result)."""
    return {referral.id: uuid.uuid4().hex for referral in content.referrals}


def _refusal(request: Request, who: Visitor | None, refused: PageRefused) -> Response:
    return rendering.render(
        request, "refused.html", Language.JA, {"visitor": who, "refused": refused}, status=refused.status
    )
