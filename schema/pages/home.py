"""`/`: the page each visitor starts from, chosen by who they are.

- signed out: the sign-in link (and, once, that the sign-out is complete);
- prefecture staff, and a municipal supervisor for its own municipality: the dashboard;
- a caseworker or coordinator: the inbox (`inbox.py`; each referral's page, `inbox_referral.py`);
- everyone else, and whoever must first choose a municipality or role: who is signed in,
  their memberships with the switch, and the link to GraphQL.

The role is the one the API would act through for this request (`visitor.Visitor.caller`);
the dashboard's data then comes from its registered document, as the API answers it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kizuna.auth import session
from kizuna.platform.i18n import Language, negotiate
from kizuna.platform.ids import new_request_id
from kizuna.schema.http import GraphQLEndpoint
from kizuna.schema.pages import dashboard, documents, inbox, inbox_referral, navigation, rendering
from kizuna.schema.pages.documents import PageRefused
from kizuna.schema.pages.supervisor import SupervisorDesk
from kizuna.schema.pages.visitor import Visitor, visitor

# Every page's header links (base.html): navigation.py knows each page's roles.
rendering.templates.env.globals["navigation"] = navigation.links


class Pages:
    """Kizuna's pages and the files they load; `endpoint` runs their documents."""

    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self.endpoint = endpoint
        self.inbox = inbox.InboxPages(endpoint)

    def routes(self) -> list[Route]:
        return [
            Route("/", self.home, methods=["GET"]),
            Route(f"{rendering.ASSETS}/{{path:path}}", rendering.asset, methods=["GET"]),
            *self.inbox.routes(),
            *inbox_referral.ReferralPages(self.endpoint).routes(),
            *SupervisorDesk(self.endpoint).routes(),
        ]

    async def home(self, request: Request) -> Response:
        language = negotiate(request.headers.get("accept-language"))
        signed_out = session.take_signed_out_note(request)
        who = await visitor(request, language)
        if who is None:
            return rendering.render(request, "signed_out.html", language, {"visitor": None, "signed_out": signed_out})
        if who.caller is not None and who.caller.role in dashboard.ROLES:
            return await self.dashboard(request, who)
        if who.caller is not None and who.caller.role in inbox.ROLES:
            return await self.inbox.page(request, who)
        return rendering.render(request, "home.html", language, {"visitor": who})

    async def dashboard(self, request: Request, who: Visitor) -> Response:
        """In Japanese whatever the browser prefers: the figures' labels are Japanese."""
        request_id = new_request_id()
        try:
            asked = dashboard.asked_year(request.query_params.get("fiscalYear"))
            data = await documents.run(
                self.endpoint, request, dashboard.DOCUMENT, request_id, dashboard.variables(asked)
            )
            content = dashboard.dashboard(data, asked)
        except PageRefused as refused:
            return refusal(request, Language.JA, who, refused)
        except dashboard.UnknownFiscalYear:
            return refusal(request, Language.JA, who, PageRefused.bad_request(request_id))
        return rendering.render(
            request,
            "dashboard.html",
            Language.JA,
            {"visitor": who, "page": content, "statuses": dashboard.TILE_STATUSES},
        )


def refusal(request: Request, language: Language, who: Visitor | None, refused: PageRefused) -> Response:
    """What a page says when the API refused it: the same page for forbidden and for not
    found, a sign-in link where signing in would help; never a trace."""
    return rendering.render(
        request,
        "refused.html",
        language,
        {"visitor": who, "refused": refused},
        status=refused.status,
    )
