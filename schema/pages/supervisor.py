"""The municipal supervisor's desk (issue 17, item 3).

- `GET /desk`: the approvals waiting (support plans and closures), each with approve and
  reject (with a reason); the emergency accesses ("break the glass") to review; the
  tenant's memberships, each with revoke; a form to grant one.
- `POST /desk/approvals`, `POST /desk/memberships` (grant), `POST /desk/memberships/revoke`:
  the API's mutations, with the session's same-origin proof (every POST needs it); a
  `userError` is shown beside its field on the desk, success answers 303 back to it
  (post/redirect/get).
- `GET /desk/audit`: the tenant's audit log, filtered by who, action, object and dates,
  paged by the API's cursor.

Who may decide what is the API's own rule (separation of duties: nobody decides their own
request); the pages only show its answer. Every other role gets the refusal page.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from kizuna.platform import wareki
from kizuna.platform.i18n import Language, Message
from kizuna.platform.ids import new_request_id
from kizuna.platform.vocabulary import AppRole, OrganisationKind
from kizuna.schema.errors import CodedError
from kizuna.schema.http import GraphQLEndpoint
from kizuna.schema.pages import documents, rendering
from kizuna.schema.pages.documents import PageRefused
from kizuna.schema.pages.visitor import Visitor, visitor
from kizuna.schema.relay import decode_global_id

ROLES = frozenset({AppRole.SUPERVISOR})
AUDIT_PAGE_SIZE = 50
SUBJECTS = {"SUPPORT_PLAN": "支援計画", "CLOSURE": "終結"}


def shown_time(value: str) -> str:
    """An instant of the API (ISO 8601) as a person in Japan reads it, in both calendars:
    `2026年11月30日（令和8年） 21:05`."""
    return wareki.datetime_label(value)


def role_label(name: str) -> str:
    return AppRole[name].label


@dataclass(frozen=True, slots=True)
class Named:
    """An id an event names; `case` when it is a case's (linked to its page)."""

    id: str
    case: bool


def named(global_id: str) -> Named:
    try:
        type_name, _ = decode_global_id(global_id)
    except CodedError:
        return Named(global_id, case=False)
    return Named(global_id, case=type_name == "Case")


@dataclass(frozen=True, slots=True)
class GrantForm:
    """The grant form's values as typed (kept when the API refuses them), and the
    idempotency key made when the form was first shown: a double submit grants once."""

    display_name: str = ""
    subject: str = ""
    issuer: str = ""
    role: str = ""
    organization_id: str = ""
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def posted(cls, form: FormData) -> GrantForm:
        return cls(
            _text(form, "displayName"),
            _text(form, "subject"),
            _text(form, "issuer"),
            _text(form, "role"),
            _text(form, "organizationId"),
            _text(form, "idempotencyKey"),
        )

    def input(self) -> dict[str, Any]:
        """`GrantMembershipInput`; the API judges every value (an empty key is its error too)."""
        return {
            "displayName": self.display_name,
            "subject": self.subject,
            "issuer": self.issuer,
            "role": self.role,
            "organizationId": self.organization_id,
            "idempotencyKey": self.idempotency_key,
        }

    def unchosen(self) -> dict[str | None, str]:
        """A message for each choice left at "選んでください" (the form's first option)."""
        problems: dict[str | None, str] = {}
        if not self.role:
            problems["role"] = "役割を選んでください。"
        if not self.organization_id:
            problems["organizationId"] = "所属機関を選んでください。"
        return problems

    def offered_by(self, choices: dict[str, Any]) -> bool:
        """Whether the role and the organisation are among the form's choices (the API's)."""
        organisations = {organisation["id"] for organisation in choices["organizations"] or []}
        return self.role in choices["grantableRoles"] and self.organization_id in organisations


GRANT = "grant"  # the grant form's `Problems.target`
GRANT_FIELDS = frozenset({"displayName", "subject", "issuer", "role", "organizationId"})


def by_kind(organisations: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The organisations serving the tenant, grouped by kind in the vocabulary's order."""
    groups: dict[OrganisationKind, list[dict[str, Any]]] = {}
    for organisation in organisations:
        groups.setdefault(OrganisationKind[organisation["kind"]], []).append(organisation)
    return [(kind.label, groups[kind]) for kind in OrganisationKind if kind in groups]


@dataclass
class Problems:
    """The userErrors of one form: by the field they concern; `None` for the whole form."""

    target: str = ""
    by_field: dict[str | None, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditFilters:
    who: str
    action: str
    entity: str
    object_id: str
    since: dt.date | None
    until: dt.date | None

    def variables(self) -> dict[str, Any]:
        """The API's arguments: dates are whole days in Japan (`until` included)."""
        issuer, _, subject = self.who.partition(" ")

        def midnight(day: dt.date) -> str:
            return dt.datetime.combine(day, dt.time(), wareki.JAPAN).isoformat()

        return {
            "actor": {"issuer": issuer, "subject": subject} if self.who else None,
            "action": self.action or None,
            "entity": self.entity or None,
            "objectId": self.object_id or None,
            "since": midnight(self.since) if self.since else None,
            "before": midnight(self.until + dt.timedelta(days=1)) if self.until else None,
        }

    def query(self, after: str) -> str:
        """The address of the next page with the same filters."""
        values = {
            "who": self.who,
            "action": self.action,
            "entity": self.entity,
            "object": self.object_id,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            "after": after,
        }
        return urlencode({k: v for k, v in values.items() if v})


def audit_filters(params: QueryParams) -> tuple[AuditFilters, dict[str, str]]:
    """The filters the address asks for, and a message per field that is not valid."""
    problems: dict[str, str] = {}

    def day(name: str) -> dt.date | None:
        text = params.get(name, "").strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            problems[name] = "日付は 2026-04-01 の形で入力してください。"
            return None

    since, until = day("from"), day("to")
    if since and until and until < since:
        problems["to"] = "終わりの日は、始まりの日と同じか、それより後にしてください。"
    object_id = params.get("object", "").strip()
    if object_id:
        try:
            decode_global_id(object_id)
        except CodedError:
            problems["object"] = "対象のIDが正しくありません（画面に表示されたIDを貼り付けてください）。"
    who = params.get("who", "").strip()
    if who and " " not in who:
        problems["who"] = "操作した人を一覧から選んでください。"
    filters = AuditFilters(
        who, params.get("action", "").strip(), params.get("entity", "").strip(), object_id, since, until
    )
    return filters, problems


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


class SupervisorDesk:
    """The desk's routes; `endpoint` runs their documents."""

    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint

    def routes(self) -> list[Route]:
        return [
            Route("/desk", self.desk, methods=["GET"]),
            Route("/desk/approvals", self.decide, methods=["POST"]),
            Route("/desk/memberships", self.grant, methods=["POST"]),
            Route("/desk/memberships/revoke", self.revoke, methods=["POST"]),
            Route("/desk/audit", self.audit, methods=["GET"]),
        ]

    async def _supervisor(self, request: Request, request_id: str) -> tuple[Visitor, str]:
        """The visitor and the municipality they work in, if the API acts for them as a
        supervisor now; PageRefused otherwise (the same page as the API's own refusal of
        the desk's documents)."""
        who = await visitor(request, Language.JA)
        if who is None:
            raise PageRefused(401, Message.PAGE_SIGN_IN_NEEDED, request_id=request_id, sign_in=True)
        if who.caller is None or who.caller.role not in ROLES:
            raise PageRefused(403, Message.PAGE_NOT_AVAILABLE, request_id=request_id)
        return who, who.caller.municipality_code

    async def desk(self, request: Request) -> Response:
        return await self._desk(request, Problems(), status=200)

    async def _desk(
        self, request: Request, problems: Problems, *, status: int, grant: GrantForm | None = None
    ) -> Response:
        request_id = new_request_id()
        who = None
        try:
            who, municipality = await self._supervisor(request, request_id)
            variables = {"municipality": municipality}
            data = await documents.run(self.endpoint, request, "supervisor_desk", request_id, variables)
        except PageRefused as refused:
            return _refusal(request, who, refused)
        approvals = data["approvals"]["nodes"]
        listed = {approval["id"] for approval in approvals} | {m["id"] for m in data["memberships"]["nodes"]}
        context = {
            "visitor": who,
            "approvals": approvals,
            "accesses": data["emergencyAccesses"] or [],
            "memberships": data["memberships"]["nodes"],
            "problems": problems,
            # A problem with an id not on the desk (gone meanwhile, or never the tenant's)
            # is said above the lists: there is no form to show it beside.
            "unlisted": problems.by_field and problems.target not in listed | {GRANT},
            "grant": grant or GrantForm(issuer=data["viewer"]["issuer"]),
            "grant_fields": GRANT_FIELDS,
            "roles": data["grantableRoles"],
            "organisations": by_kind(data["organizations"] or []),
            "subjects": SUBJECTS,
            "role_label": role_label,
            "shown_time": shown_time,
        }
        return rendering.render(request, "supervisor/desk.html", Language.JA, context, status=status)

    async def decide(self, request: Request) -> Response:
        form = await request.form()
        decision = _text(form, "decision")
        variables = {
            "input": {
                "id": _text(form, "id"),
                "approve": decision == "approve",
                "comment": _text(form, "comment") or None,
            }
        }
        if decision not in ("approve", "reject"):
            return _refusal(request, None, PageRefused.bad_request(uuid.uuid4().hex))
        return await self._mutate(request, "supervisor_decide_approval", "decideApproval", variables)

    async def revoke(self, request: Request) -> Response:
        form = await request.form()
        variables = {"input": {"id": _text(form, "id")}}
        return await self._mutate(request, "supervisor_revoke_membership", "revokeMembership", variables)

    async def grant(self, request: Request) -> Response:
        """Grant a membership; a role or organisation the form did not offer is the 400 page
        and sends nothing (another tenant's organisation reads like a missing one)."""
        grant = GrantForm.posted(await request.form())
        if unchosen := grant.unchosen():
            return await self._desk(request, Problems(GRANT, unchosen), status=400, grant=grant)
        request_id = new_request_id()
        who = None
        try:
            who, municipality = await self._supervisor(request, request_id)
            tenant = {"municipality": municipality}
            choices = await documents.run(self.endpoint, request, "supervisor_grant_choices", request_id, tenant)
            if not grant.offered_by(choices):
                raise PageRefused.bad_request(request_id)
        except PageRefused as refused:
            return _refusal(request, who, refused)
        return await self._mutate(
            request,
            "supervisor_grant_membership",
            "grantMembership",
            {"input": grant.input()},
            target=GRANT,
            grant=grant,
        )

    async def _mutate(
        self,
        request: Request,
        document: str,
        payload: str,
        variables: dict[str, Any],
        *,
        target: str | None = None,
        grant: GrantForm | None = None,
    ) -> Response:
        """Run a form's mutation; 303 to the desk when done, the desk with the userErrors
        beside their fields when not (`target`: the form's, the input's id by default)."""
        request_id = new_request_id()
        who = None
        try:
            who, _ = await self._supervisor(request, request_id)
            data = await documents.run(self.endpoint, request, document, request_id, variables)
        except PageRefused as refused:
            return _refusal(request, who, refused)
        errors = data[payload]["userErrors"]
        if not errors:
            return RedirectResponse("/desk", status_code=303)
        by_field = {error["field"]: error["message"] for error in errors}
        problems = Problems(target or variables["input"]["id"], by_field)
        return await self._desk(request, problems, status=400, grant=grant)

    async def audit(self, request: Request) -> Response:
        request_id = new_request_id()
        who = None
        filters, problems = audit_filters(request.query_params)
        after = request.query_params.get("after") or None
        try:
            who, _ = await self._supervisor(request, request_id)
            variables: dict[str, Any] = {"first": AUDIT_PAGE_SIZE, "after": after}
            if not problems:
                variables |= filters.variables()
            else:  # the filters are shown with their messages; nothing is filtered yet
                variables |= {"first": 0, "after": None}
            data = await documents.run(self.endpoint, request, "supervisor_audit", request_id, variables)
        except PageRefused as refused:
            return _refusal(request, who, refused)
        members = data["memberships"]["nodes"]
        names = {(m["issuer"], m["subject"]): m["displayName"] for m in members}
        events = data["auditEvents"]
        context = {
            "visitor": who,
            "filters": filters,
            "problems": problems,
            "members": sorted({(m["displayName"], f"{m['issuer']} {m['subject']}") for m in members}),
            "events": events["nodes"],
            "names": names,
            "named": named,
            "role_label": role_label,
            "shown_time": shown_time,
            "next_page": filters.query(events["pageInfo"]["endCursor"]) if events["pageInfo"]["hasNextPage"] else None,
            "paged": after is not None,
        }
        return rendering.render(request, "supervisor/audit.html", Language.JA, context, status=400 if problems else 200)


def _refusal(request: Request, who: Visitor | None, refused: PageRefused) -> Response:
    return rendering.render(
        request, "refused.html", Language.JA, {"visitor": who, "refused": refused}, status=refused.status
    )
