"""`/inbox/referrals/{id}`: one waiting referral and what a caseworker or coordinator
decides of it (issue 17, item 2), opened from the inbox.

Its three forms: accept (into a new case, for a person recorded on the spot or one of the
candidates the API names as the same person, or into one of the visitor's open cases),
decline with a reason, merge into an accepted referral. The choices (the visitor's open
cases, the accepted referrals) are listed once, here, not for every referral of the inbox.
Everything is the answer of the registered documents `inbox_*.graphql`; every form posts
to a route here that runs its mutation through `documents.run` (the session's same-origin
rule holds: a POST is never a navigation), shows each `userError` beside its field on this
page again (answered 400, as every page's form), and redirects (303) to the inbox on
success. Another tenant's referral, a missing one and anything else by that id get the
same refusal page.
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
from kizuna.platform.vocabulary import CarerCategory, CaseStage, ReferralStatus
from kizuna.schema.http import GraphQLEndpoint
from kizuna.schema.pages import documents, rendering
from kizuna.schema.pages.documents import PageRefused
from kizuna.schema.pages.inbox import NO_NAME, PATH, ReferralLine, allowed, japan_day, referral_line, refusal
from kizuna.schema.pages.visitor import Visitor, visitor

# What a person must give to be recorded (CreatePersonInput), in the form's order.
PERSON_FIELDS = ("familyName", "givenName", "familyNameKana", "givenNameKana", "birthDate", "householdName")
NEW, EXISTING = "new", "existing"


@dataclass(frozen=True, slots=True)
class Choice:
    """An option of a form's list: a case to accept into, a referral to merge into."""

    id: str
    label: str


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
class ReferralPage:
    referral: ReferralLine
    status: str
    """Its status's label; the forms are shown while it waits (受付待ち) only."""
    waiting: bool
    open_cases: tuple[Choice, ...]
    accepted: tuple[Choice, ...]
    """Referrals accepted into a case: what a new one about the same person merges into."""
    categories: tuple[tuple[str, str], ...]


def shape(data: dict[str, Any], request_id: str) -> ReferralPage:
    """The page from the answer to `InboxReferral`; a node that is not a referral the
    visitor may read (null, or another type) is the refusal page."""
    node = data["node"]
    if node is None or node["__typename"] != "Referral":
        raise PageRefused(403, Message.PAGE_NOT_AVAILABLE, request_id=request_id)
    return ReferralPage(
        referral=referral_line(node),
        status=ReferralStatus[node["status"]].label,
        waiting=node["status"] == ReferralStatus.SUBMITTED.name,
        open_cases=tuple(
            Choice(
                case["id"],
                f"{case['person']['familyName']} {case['person']['givenName']} · {CaseStage[case['stage']].label}"
                f" · {wareki.date_label(japan_day(case['openedAt']))}",
            )
            for case in data["cases"]["nodes"]
            if case["stage"] != CaseStage.CLOSED.name
        ),
        accepted=tuple(
            Choice(
                other["id"],
                f"{other['childDisplayName'] or NO_NAME} · {wareki.date_label(japan_day(other['receivedAt']))}",
            )
            for other in data["accepted"]["nodes"]
        ),
        categories=tuple((category.name, category.label) for category in CarerCategory),
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


class ReferralPages:
    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint

    def routes(self) -> list[Route]:
        return [
            Route(f"{PATH}/referrals/{{referral_id}}", self.get, methods=["GET"]),
            Route(f"{PATH}/accept", self.accept, methods=["POST"]),
            Route(f"{PATH}/decline", self.decline, methods=["POST"]),
            Route(f"{PATH}/merge", self.merge, methods=["POST"]),
        ]

    async def get(self, request: Request) -> Response:
        who = await visitor(request, Language.JA)
        return await self.page(request, who, request.path_params["referral_id"])

    async def page(
        self, request: Request, who: Visitor | None, referral_id: str, posted: FormState | None = None
    ) -> Response:
        """The referral's page in Japanese, with `posted` shown back when the API did not
        take it."""
        request_id = new_request_id()
        try:
            allowed(who, request_id)
            data = await documents.run(self.endpoint, request, "inbox_referral", request_id, {"id": referral_id})
            content = shape(data, request_id)
        except PageRefused as refused:
            return refusal(request, who, refused)
        context = {
            "visitor": who,
            "page": content,
            "posted": posted,
            # A double submit records the person once (the API answers a resent key with its first result).
            "key": uuid.uuid4().hex,
            "path": PATH,
        }
        # A form shown back with what to fix was not taken: 400, as on every page.
        status = 200 if posted is None else 400
        return rendering.render(request, "inbox/referral.html", Language.JA, context, status=status)

    async def accept(self, request: Request) -> Response:
        who = await visitor(request, Language.JA)
        request_id = new_request_id()
        try:
            allowed(who, request_id)
        except PageRefused as refused:
            return refusal(request, who, refused)
        form = await request.form()
        state = FormState(_text(form, "id"), "accept", {name: _text(form, name) for name in form if name != "id"})
        try:
            variables = self._acceptance(state)
            if state.values.get("into") == NEW and not state.values.get("personId"):
                person = await self._record_person(request, request_id, state)
                if person is None:
                    return await self.page(request, who, state.referral_id, state)
                variables["personId"] = person
            answer = await documents.run(
                self.endpoint, request, "inbox_accept_referral", request_id, {"input": variables}
            )
        except PageRefused as refused:
            return refusal(request, who, refused)
        except InvalidForm as invalid:
            state.errors = invalid.errors
            return await self.page(request, who, state.referral_id, state)
        errors = answer["acceptReferral"]["userErrors"]
        if errors:
            state.errors = _user_errors(errors)
            return await self.page(request, who, state.referral_id, state)
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
                    wareki.date_label(dt.date.fromisoformat(c["birthDate"])),
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
        request_id = new_request_id()
        try:
            allowed(who, request_id)
        except PageRefused as refused:
            return refusal(request, who, refused)
        form = await request.form()
        state = FormState(_text(form, "id"), action, {name: _text(form, name)})
        if not state.values[name]:
            state.errors = {name: "入力してください。"}
            return await self.page(request, who, state.referral_id, state)
        variables = {"input": {"id": state.referral_id, name: state.values[name]}}
        try:
            answer = await documents.run(self.endpoint, request, document, request_id, variables)
        except PageRefused as refused:
            return refusal(request, who, refused)
        if answer[mutation]["userErrors"]:
            state.errors = _user_errors(answer[mutation]["userErrors"])
            return await self.page(request, who, state.referral_id, state)
        return RedirectResponse(PATH, status_code=303)
