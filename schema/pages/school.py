"""The screens of those who send referrals: school staff, school social workers and welfare
workers (`ROLES`). The concern form (気づきシート) at `/referrals/new`, their organisation's
referrals at `/referrals`, one referral's status at `/referrals/{id}`, and its revocation
while it waits to be accepted (`POST /referrals/{id}/revoke`).

Each page runs its registered document (`documents/school_*.graphql`) and each form its
mutation document, through `documents.run`: the API decides who may send from which
source, what the input must say, and who may revoke, and says why in `userErrors`, shown
beside the field they name. These roles read nothing of a case: a case's address, another
organisation's referral and a missing one get the same refusal page. Municipal staff may
also send a referral (a phone call, a LINE consultation): they do it from their own pages.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from kizuna.platform import wareki
from kizuna.platform.i18n import Language, Message
from kizuna.platform.ids import new_request_id
from kizuna.platform.vocabulary import AppRole, CareTask, ReferralSource, ReferralStatus, Urgency
from kizuna.schema.http import GraphQLEndpoint
from kizuna.schema.pages import documents, home, rendering
from kizuna.schema.pages.documents import PageRefused
from kizuna.schema.pages.visitor import Visitor, visitor
from kizuna.schema.permissions import Operation, allowed
from kizuna.schema.referrals.service import SOURCES

# Those who send referrals and may take their own back: not municipal staff, who decide them.
ROLES = allowed(Operation.CREATE_REFERRAL) & allowed(Operation.REVOKE_REFERRAL)
# Whether the family knows, as the form asks it and as the API takes it (None: unknown).
FAMILY_AWARE: dict[str, bool | None] = {"yes": True, "no": False, "unknown": None}
FAMILY_AWARE_LABELS = {True: "知っている", False: "知らない", None: "わからない"}
# The idempotency key the form is rendered with: uuid4's hex.
_KEY = re.compile(r"[0-9a-f]{32}", re.ASCII)
# The form's fields by the names the API's userErrors give them; any other is the form's.
FORM_FIELDS = ("source", "childDisplayName", "noticed", "urgency", "careTasks", "familyAware")


def _not_available(request_id: str) -> PageRefused:
    """Forbidden and missing alike: nothing says whether the referral exists."""
    return PageRefused(403, Message.PAGE_NOT_AVAILABLE, request_id=request_id)


class BadForm(Exception):
    """A posted form no page of Kizuna renders (a value outside its choices): nothing is sent."""


def japanese_date_time(value: str) -> str:
    """An API timestamp as a person reads it, in Japan's time: 2026年4月1日（令和8年） 9:05."""
    return wareki.datetime_label(value)


@dataclass(frozen=True, slots=True)
class ReferralLine:
    """A referral as the list shows it: its status and, once decided, when and why."""

    id: str
    href: str
    status: str
    status_label: str
    urgency_label: str
    child_display_name: str
    received_at: str
    decided_at: str | None
    decision_reason: str | None

    @classmethod
    def of(cls, node: Mapping[str, Any]) -> ReferralLine:
        return cls(
            id=node["id"],
            href=f"/referrals/{quote(node['id'], safe='')}",
            status=node["status"],
            status_label=ReferralStatus[node["status"]].label,
            urgency_label=Urgency[node["urgency"]].label,
            child_display_name=node["childDisplayName"] or "",
            received_at=japanese_date_time(node["receivedAt"]),
            decided_at=None if node["decidedAt"] is None else japanese_date_time(node["decidedAt"]),
            decision_reason=node["decisionReason"],
        )

    @property
    def may_revoke(self) -> bool:
        return self.status == ReferralStatus.SUBMITTED.name


@dataclass(frozen=True, slots=True)
class ReferralSheet:
    """A referral as its status page shows it: the list's line and what was sent."""

    line: ReferralLine
    organization: str | None
    source_label: str
    noticed: str
    care_task_labels: list[str]
    family_aware_label: str

    @classmethod
    def of(cls, node: Mapping[str, Any]) -> ReferralSheet:
        organization = node["referrerOrganization"]
        return cls(
            line=ReferralLine.of(node),
            organization=None if organization is None else organization["name"],
            source_label=ReferralSource[node["source"]].label,
            noticed=node["noticed"],
            care_task_labels=[CareTask[task].label for task in node["careTasks"]],
            family_aware_label=FAMILY_AWARE_LABELS[node["familyAware"]],
        )


@dataclass(slots=True)
class ConcernForm:
    """The concern form's values, as typed (to show again), and what was refused by field
    ("" for the form as a whole)."""

    idempotency_key: str
    source: str = ""
    child_display_name: str = ""
    noticed: str = ""
    urgency: str = ""
    care_tasks: tuple[str, ...] = ()
    family_aware: str = "unknown"
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def posted(cls, form: FormData) -> ConcernForm:
        """The posted values, each checked against the choices the form offers (BadForm)."""
        key, source = str(form.get("idempotencyKey", "")), str(form.get("source", ""))
        urgency, family_aware = str(form.get("urgency", "")), str(form.get("familyAware", "unknown"))
        care_tasks = tuple(str(task) for task in form.getlist("careTasks"))
        if (
            not _KEY.fullmatch(key)
            or source not in ReferralSource.__members__
            or urgency not in ("", *Urgency.__members__)
            or family_aware not in FAMILY_AWARE
            or not set(care_tasks) <= set(CareTask.__members__)
        ):
            raise BadForm
        # A textarea's line breaks arrive as CRLF; the API counts characters as stored.
        return cls(
            idempotency_key=key,
            source=source,
            child_display_name=str(form.get("childDisplayName", "")),
            noticed=str(form.get("noticed", "")).replace("\r\n", "\n"),
            urgency=urgency,
            care_tasks=care_tasks,
            family_aware=family_aware,
        )

    def refuse(self, field_name: str | None, message: str) -> None:
        self.errors.setdefault(field_name if field_name in FORM_FIELDS else "", []).append(message)

    def input(self) -> dict[str, Any]:
        """The API's CreateReferralInput."""
        return {
            "source": self.source,
            "childDisplayName": self.child_display_name,
            "noticed": self.noticed,
            "urgency": self.urgency,
            "careTasks": list(self.care_tasks),
            "familyAware": FAMILY_AWARE[self.family_aware],
            "idempotencyKey": self.idempotency_key,
        }


def sources_of(role: AppRole) -> list[ReferralSource]:
    """The sources `role` sends from, in the API's order (a school: the school only)."""
    return [source for source in ReferralSource if source in SOURCES.get(role, frozenset())]


class SchoolPages:
    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint

    def routes(self) -> list[Route]:
        return [
            Route("/referrals", self.referrals, methods=["GET"]),
            Route("/referrals/new", self.new_referral, methods=["GET"]),
            Route("/referrals/new", self.send_referral, methods=["POST"]),
            Route("/referrals/{referral_id}", self.referral, methods=["GET"]),
            Route("/referrals/{referral_id}/revoke", self.revoke_referral, methods=["POST"]),
        ]

    async def _sender(self, request: Request) -> Visitor:
        """The visitor, if they send referrals; PageRefused otherwise, before anything is read."""
        who = await visitor(request, Language.JA)
        request_id = new_request_id()
        if who is None:
            raise PageRefused(401, Message.PAGE_SIGN_IN_NEEDED, request_id=request_id, sign_in=True)
        if who.caller is None or who.caller.role not in ROLES:
            raise _not_available(request_id)
        return who

    async def referrals(self, request: Request) -> Response:
        who: Visitor | None = None
        try:
            who = await self._sender(request)
            after = request.query_params.get("after")
            data = await documents.run(self.endpoint, request, "school_referrals", uuid.uuid4().hex, {"after": after})
        except PageRefused as refused:
            return home.refusal(request, Language.JA, who, refused)
        connection = data["referrals"]
        organization = data["viewer"]["organization"]
        return rendering.render(
            request,
            "school/referrals.html",
            Language.JA,
            {
                "visitor": who,
                "organization": None if organization is None else organization["name"],
                "total": connection["totalCount"],
                "referrals": [ReferralLine.of(node) for node in connection["nodes"]],
                "next_page": connection["pageInfo"]["endCursor"] if connection["pageInfo"]["hasNextPage"] else None,
            },
        )

    async def new_referral(self, request: Request) -> Response:
        try:
            who = await self._sender(request)
        except PageRefused as refused:
            return home.refusal(request, Language.JA, None, refused)
        return await self._form(request, who, ConcernForm(idempotency_key=uuid.uuid4().hex))

    async def _form(self, request: Request, who: Visitor, form: ConcernForm, *, status: int = 200) -> Response:
        try:
            data = await documents.run(self.endpoint, request, "school_referral_form", uuid.uuid4().hex)
        except PageRefused as refused:
            return home.refusal(request, Language.JA, who, refused)
        organization = data["viewer"]["organization"]
        sources = sources_of(AppRole[data["viewer"]["role"]])
        form.source = form.source or sources[0].name  # a new form: the first it may send from
        return rendering.render(
            request,
            "school/new_referral.html",
            Language.JA,
            {
                "visitor": who,
                "organization": None if organization is None else organization["name"],
                "form": form,
                "sources": sources,
                "urgencies": list(Urgency),
                "care_tasks": list(CareTask),
                "family_aware": [(key, FAMILY_AWARE_LABELS[value]) for key, value in FAMILY_AWARE.items()],
            },
            status=status,
        )

    async def send_referral(self, request: Request) -> Response:
        request_id = new_request_id()
        who: Visitor | None = None
        try:
            who = await self._sender(request)
            try:
                form = ConcernForm.posted(await request.form())
            except BadForm:
                raise PageRefused.bad_request(request_id) from None
            if not form.urgency:  # asked before anything is sent: the API requires it
                form.refuse("urgency", Message.SCHOOL_URGENCY_NEEDED.in_(Language.JA))
                return await self._form(request, who, form, status=400)
            data = await documents.run(
                self.endpoint, request, "school_create_referral", request_id, {"input": form.input()}
            )
        except PageRefused as refused:
            return home.refusal(request, Language.JA, who, refused)
        payload = data["createReferral"]
        if payload["userErrors"]:
            for error in payload["userErrors"]:
                form.refuse(error["field"], error["message"])
            return await self._form(request, who, form, status=400)
        return RedirectResponse(f"/referrals/{quote(payload['referral']['id'], safe='')}", status_code=303)

    async def referral(self, request: Request, *, problem: str | None = None, status: int = 200) -> Response:
        request_id = new_request_id()
        who: Visitor | None = None
        try:
            who = await self._sender(request)
            variables = {"id": request.path_params["referral_id"]}
            data = await documents.run(self.endpoint, request, "school_referral", request_id, variables)
            # Null (missing, or hidden by row security) and another type ({}) read alike.
            if not (data["node"] or {}).get("id"):
                raise _not_available(request_id)
        except PageRefused as refused:
            return home.refusal(request, Language.JA, who, refused)
        return rendering.render(
            request,
            "school/referral.html",
            Language.JA,
            {"visitor": who, "sheet": ReferralSheet.of(data["node"]), "problem": problem},
            status=status,
        )

    async def revoke_referral(self, request: Request) -> Response:
        request_id = new_request_id()
        who: Visitor | None = None
        referral_id = request.path_params["referral_id"]
        try:
            who = await self._sender(request)
            data = await documents.run(
                self.endpoint, request, "school_revoke_referral", request_id, {"id": referral_id}
            )
        except PageRefused as refused:
            return home.refusal(request, Language.JA, who, refused)
        payload = data["revokeReferral"]
        if payload["userErrors"]:
            (error, *_) = payload["userErrors"]
            if error["code"] == "NOT_FOUND":
                return home.refusal(request, Language.JA, who, _not_available(request_id))
            # A colleague's referral (FORBIDDEN) or one decided meanwhile (CONFLICT).
            status = 403 if error["code"] == "FORBIDDEN" else 409
            return await self.referral(request, problem=error["message"], status=status)
        return RedirectResponse(f"/referrals/{quote(referral_id, safe='')}", status_code=303)
