"""`/inbox`: a caseworker's or coordinator's day (issue 17, item 2), and `/` for them.

The referrals waiting to be taken in, each linking to its own page (`inbox_referral.py`),
where it is accepted, declined or merged: the inbox repeats no list of choices for each
of them; the visitor's own cases (as worker or coordinator), every one counted by stage;
the reviews due (each listed case's latest meeting's next review date); the helper visits
of this week. Everything is the answer of the registered document `inbox.graphql`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kizuna.platform import wareki
from kizuna.platform.i18n import Language, Message
from kizuna.platform.ids import new_request_id
from kizuna.platform.vocabulary import AppRole, CarerCategory, CareTask, CaseStage, ReferralSource, Urgency
from kizuna.schema.http import GraphQLEndpoint
from kizuna.schema.pages import documents, rendering
from kizuna.schema.pages.documents import PageRefused
from kizuna.schema.pages.visitor import Visitor, visitor

# The API lets a supervisor take referrals in too; a supervisor's start is the desk
# (pages-supervisor). The inbox is the caseworker's and the coordinator's page.
ROLES = frozenset({AppRole.CASEWORKER, AppRole.COORDINATOR})
PATH = "/inbox"
# A referral without the child's name still needs a heading and a link to its page.
NO_NAME = "（名前の記載なし）"


def _date(value: str) -> dt.date:
    """An answer's Date."""
    return dt.date.fromisoformat(value)


def japan_day(value: str) -> dt.date:
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

    @property
    def href(self) -> str:
        """Its page, where it is accepted, declined or merged."""
        return f"{PATH}/referrals/{quote(self.id, safe='')}"


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
            opened=wareki.date_label(japan_day(node["openedAt"])),
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
        referrals=tuple(referral_line(node) for node in data["waiting"]["nodes"]),
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
    )


def referral_line(node: dict[str, Any]) -> ReferralLine:
    aware = node["familyAware"]
    return ReferralLine(
        id=node["id"],
        received=wareki.date_label(japan_day(node["receivedAt"])),
        urgency=Urgency[node["urgency"]].label,
        urgent=node["urgency"] == Urgency.URGENT.name,
        source=ReferralSource[node["source"]].label,
        referrer=(node["referrerOrganization"] or {}).get("name"),
        child=node["childDisplayName"] or NO_NAME,
        noticed=node["noticed"],
        care_tasks="、".join(CareTask[task].label for task in node["careTasks"]) or "記載なし",
        family_aware="わからない" if aware is None else ("知っている" if aware else "知らない"),
    )


class InboxPages:
    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint

    def routes(self) -> list[Route]:
        return [Route(PATH, self.get, methods=["GET"])]

    async def get(self, request: Request) -> Response:
        who = await visitor(request, Language.JA)
        return await self.page(request, who)

    async def page(self, request: Request, who: Visitor | None) -> Response:
        """The inbox in Japanese (its labels are the vocabulary's)."""
        request_id = new_request_id()
        try:
            allowed(who, request_id)
            today = dt.datetime.now(wareki.JAPAN).date()  # the day and week a caseworker means
            monday, sunday = week_of(today)
            variables = {"from": monday.isoformat(), "to": sunday.isoformat()}
            content = shape(await documents.run(self.endpoint, request, "inbox", request_id, variables), today)
        except PageRefused as refused:
            return refusal(request, who, refused)
        context = {"visitor": who, "page": content, "path": PATH}
        return rendering.render(request, "inbox/inbox.html", Language.JA, context)


def allowed(who: Visitor | None, request_id: str) -> None:
    """Before anything is read or sent: signed in, and a caseworker or coordinator."""
    if who is None:
        raise PageRefused(401, Message.PAGE_SIGN_IN_NEEDED, request_id=request_id, sign_in=True)
    if who.caller is None or who.caller.role not in ROLES:
        raise PageRefused(403, Message.PAGE_NOT_AVAILABLE, request_id=request_id)


def refusal(request: Request, who: Visitor | None, refused: PageRefused) -> Response:
    return rendering.render(
        request, "refused.html", Language.JA, {"visitor": who, "refused": refused}, status=refused.status
    )
