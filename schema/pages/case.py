"""`/cases/{id}`: a case as its caseworker or coordinator works on it (issue 17, item 2).

The page reads one registered document (`documents/case_page.graphql`) and posts its
forms through five more (`case_move_stage`, `case_record_contact`,
`case_record_helper_visit`, `case_create_support_plan`, `case_request_approval`), so every read and every change is
the API's own: its roles, its workflow rules, its audit. A form's values are checked and
converted here only as far as the API's types need (a date, a number, a choice); the
API's `userErrors` are shown beside the fields they name, and a success answers 303 back
to the page (post/redirect/get). Whoever may not see the case, and whatever does not
exist, gets the same refusal page.
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
from kizuna.platform.ids import new_request_id
from kizuna.platform.vocabulary import (
    ApprovalStatus,
    ApprovalSubject,
    CaredForCondition,
    CarerCategory,
    CareTask,
    CaseEventKind,
    CaseStage,
    ConsentGiver,
    ContactKind,
    DispatchStatus,
    LabelledEnum,
    MeetingKind,
    RiskLevel,
)
from kizuna.schema.cases.workflow import allowed_transitions
from kizuna.schema.http import GraphQLEndpoint
from kizuna.schema.pages import documents, rendering
from kizuna.schema.pages.documents import PageRefused
from kizuna.schema.pages.home import refusal
from kizuna.schema.pages.visitor import visitor

DOCUMENT = "case_page"
# A dispatch whose helpers visit: the API refuses a visit outside its period anyway.
VISITING = frozenset({DispatchStatus.DECIDED.name, DispatchStatus.IN_SERVICE.name, DispatchStatus.MONITORING.name})


def date_label(value: str | None) -> str:
    """An answer's Date as a person reads it: 2026年12月1日（令和8年）."""
    if value is None:
        return ""
    return wareki.date_label(dt.date.fromisoformat(value))


# The vocabularies whose values the page shows, by their GraphQL enum's name.
LABELLED: dict[str, type[LabelledEnum]] = {
    kind.__name__: kind
    for kind in (
        ApprovalStatus,
        ApprovalSubject,
        CaredForCondition,
        CareTask,
        CarerCategory,
        CaseEventKind,
        CaseStage,
        ConsentGiver,
        ContactKind,
        DispatchStatus,
        MeetingKind,
        RiskLevel,
    )
}


def label(kind: str, name: str | None) -> str:
    """The Japanese label of a GraphQL enum value (its member's name): label("CaseStage", "INTAKE")."""
    return "" if name is None else LABELLED[kind][name].label


@dataclass
class Form:
    """What a visitor typed in one form, and what is wrong with it: {field: message}
    (`""`: the form as a whole)."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


@dataclass(frozen=True, slots=True)
class FormSpec:
    """One of the page's forms: its document, the input fields it shows (the others'
    `userErrors` are shown at the top of the form) and the page's section it returns to."""

    document: str
    fields: frozenset[str]
    anchor: str


FORMS = {
    "stage": FormSpec("case_move_stage", frozenset({"toStage", "reason"}), "stage"),
    "contact": FormSpec("case_record_contact", frozenset({"kind", "contactedAt", "summary"}), "contacts"),
    "visit": FormSpec(
        "case_record_helper_visit",
        frozenset({"visitedOn", "minutes", "tasks", "activities", "observations"}),
        "dispatches",
    ),
    "plan": FormSpec("case_create_support_plan", frozenset({"goals", "periodStart", "periodEnd"}), "approvals"),
    "approval": FormSpec("case_request_approval", frozenset({"subject"}), "approvals"),
}


def _choice(form: Form, data: FormData, name: str, kind: type[LabelledEnum], message: str) -> str | None:
    value = str(data.get(name) or "")
    form.values[name] = value
    if value not in kind.__members__:
        form.error(name, message)
        return None
    return value


def _text(form: Form, data: FormData, name: str) -> str | None:
    """A text as typed (the API checks its length); None when left empty."""
    value = str(data.get(name) or "")
    form.values[name] = value
    return value if value.strip() else None


def _date(form: Form, data: FormData, name: str, message: str) -> str | None:
    value = str(data.get(name) or "")
    form.values[name] = value
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        form.error(name, message)
        return None


def _key(form: Form, data: FormData) -> str:
    """The key the form was rendered with: a resubmission of it is recorded once."""
    key = str(data.get("idempotencyKey") or "") or uuid.uuid4().hex
    form.values["idempotencyKey"] = key
    return key


def stage_input(case_id: str, data: FormData, form: Form, language: Language) -> dict[str, Any]:
    to_stage = _choice(form, data, "toStage", CaseStage, Message.CASE_PAGE_CHOOSE.in_(language))
    return {"id": case_id, "toStage": to_stage, "reason": _text(form, data, "reason")}


def contact_input(case_id: str, data: FormData, form: Form, language: Language) -> dict[str, Any]:
    kind = _choice(form, data, "kind", ContactKind, Message.CASE_PAGE_CHOOSE.in_(language))
    typed = str(data.get("contactedAt") or "")
    form.values["contactedAt"] = typed
    contacted_at = None
    try:
        # A datetime-local field has no zone: the person typed Japan's time.
        contacted_at = dt.datetime.fromisoformat(typed).replace(tzinfo=wareki.JAPAN).isoformat()
    except ValueError:
        form.error("contactedAt", Message.CASE_PAGE_DATE_TIME.in_(language))
    summary = _text(form, data, "summary") or ""
    key = _key(form, data)
    return {
        "caseId": case_id,
        "kind": kind,
        "contactedAt": contacted_at,
        "summary": summary,
        "idempotencyKey": key,
    }


def visit_input(case_id: str, data: FormData, form: Form, language: Language) -> dict[str, Any]:
    dispatch = str(data.get("dispatchId") or "")
    form.values["dispatchId"] = dispatch
    visited_on = _date(form, data, "visitedOn", Message.CASE_PAGE_DATE.in_(language))
    typed = str(data.get("minutes") or "")
    form.values["minutes"] = typed
    minutes = int(typed) if typed.isascii() and typed.isdigit() else None
    if minutes is None:
        form.error("minutes", Message.CASE_PAGE_MINUTES.in_(language))
    tasks = [str(task) for task in data.getlist("tasks")]
    form.lists["tasks"] = tasks
    if any(task not in CareTask.__members__ for task in tasks):
        form.error("tasks", Message.CASE_PAGE_CHOOSE.in_(language))
    return {
        "dispatchId": dispatch,
        "visitedOn": visited_on,
        "minutes": minutes,
        "tasks": tasks,
        "activities": _text(form, data, "activities"),
        "observations": _text(form, data, "observations"),
        "idempotencyKey": _key(form, data),
    }


def plan_input(case_id: str, data: FormData, form: Form, language: Language) -> dict[str, Any]:
    return {
        "caseId": case_id,
        "goals": _text(form, data, "goals") or "",
        "periodStart": _date(form, data, "periodStart", Message.CASE_PAGE_DATE.in_(language)),
        "periodEnd": _date(form, data, "periodEnd", Message.CASE_PAGE_DATE.in_(language)),
        "idempotencyKey": _key(form, data),
    }


def approval_input(case_id: str, data: FormData, form: Form, language: Language) -> dict[str, Any]:
    subject = _choice(form, data, "subject", ApprovalSubject, Message.CASE_PAGE_CHOOSE.in_(language))
    # The form names the latest plan; only a plan's approval is about a plan.
    plan = str(data.get("supportPlanId") or "") or None
    return {
        "caseId": case_id,
        "subject": subject,
        "supportPlanId": plan if subject == ApprovalSubject.SUPPORT_PLAN.name else None,
    }


INPUTS = {
    "stage": stage_input,
    "contact": contact_input,
    "visit": visit_input,
    "plan": plan_input,
    "approval": approval_input,
}


@dataclass(frozen=True, slots=True)
class CasePage:
    """The answer to `CasePage` with what the template needs beside it."""

    case: dict[str, Any]
    plans: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    waiting: list[dict[str, Any]]
    """This case's approval requests waiting for a supervisor."""
    next_stages: tuple[CaseStage, ...]
    visiting: dict[str, Any] | None
    """The dispatch whose visits the page records, if one is decided."""


def case_page(data: dict[str, Any], request_id: str) -> CasePage:
    """The page's content; PageRefused (as for a missing case) when the id is not a case's."""
    case = data["node"]
    if case is None or case["__typename"] != "Case":
        raise PageRefused(403, Message.PAGE_NOT_AVAILABLE, request_id=request_id)
    waiting = [a for a in case["approvals"] if a["status"] == ApprovalStatus.REQUESTED.name]
    stage = CaseStage[case["stage"]]
    return CasePage(
        case=case,
        plans=data["supportPlans"],
        consents=data["consents"],
        waiting=waiting,
        next_stages=tuple(CaseStage[t.target.name] for t in allowed_transitions(stage)),
        visiting=next((d for d in case["dispatches"] if d["status"] in VISITING), None),
    )


def _user_errors(answer: dict[str, Any], spec: FormSpec, form: Form) -> None:
    (payload,) = answer.values()
    for error in payload["userErrors"]:
        name = error["field"] if error["field"] in spec.fields else ""
        form.error(name, error["message"])


class CasePages:
    """The case page and the forms it posts; `endpoint` runs their documents."""

    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint

    def routes(self) -> list[Route]:
        return [
            Route("/cases/{id}", self.show, methods=["GET"]),
            Route("/cases/{id}/{form}", self.submit, methods=["POST"]),
        ]

    async def show(self, request: Request) -> Response:
        return await self._render(request, {}, status=200)

    async def _render(self, request: Request, forms: dict[str, Form], *, status: int) -> Response:
        """In Japanese whatever the browser prefers: the API's labels are Japanese."""
        request_id = new_request_id()
        who = await visitor(request, Language.JA)
        variables = {"id": request.path_params["id"], "contactsAfter": request.query_params.get("contactsAfter")}
        try:
            data = await documents.run(self.endpoint, request, DOCUMENT, request_id, variables)
            page = case_page(data, request_id)
        except PageRefused as refused:
            return refusal(request, Language.JA, who, refused)
        context = {
            "visitor": who,
            "page": page,
            "forms": {name: forms.get(name) or Form(values={"idempotencyKey": uuid.uuid4().hex}) for name in FORMS},
            "date": date_label,
            "moment": wareki.datetime_label,
            "label": label,
            "contact_kinds": list(ContactKind),
            "care_tasks": list(CareTask),
            "subjects": list(ApprovalSubject),
            "contacts_after": variables["contactsAfter"],
        }
        return rendering.render(request, "case/case.html", Language.JA, context, status=status)

    async def submit(self, request: Request) -> Response:
        name = request.path_params["form"]
        spec = FORMS.get(name)
        if spec is None:
            nothing = PageRefused(404, Message.PAGE_NOT_AVAILABLE, request_id=new_request_id())
            return refusal(request, Language.JA, await visitor(request, Language.JA), nothing)
        case_id = request.path_params["id"]
        data = await request.form()
        form = Form()
        variables = {"input": INPUTS[name](case_id, data, form, Language.JA)}
        if not form.errors:
            request_id = new_request_id()
            try:
                answer = await documents.run(self.endpoint, request, spec.document, request_id, variables)
            except PageRefused as refused:
                return refusal(request, Language.JA, await visitor(request, Language.JA), refused)
            _user_errors(answer, spec, form)
        if form.errors:
            return await self._render(request, {name: form}, status=400)
        return RedirectResponse(f"/cases/{case_id}#{spec.anchor}", status_code=303)
