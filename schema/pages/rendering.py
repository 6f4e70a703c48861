"""How every page is rendered and answered: Jinja2 templates (autoescaped, strict about
undefined names), the headers every page carries, and the stylesheets pages load.

The headers: nothing is kept by a browser or a proxy (`no-store`: pages name people); no
script at all, styles from Kizuna's own files only (no inline style, so no injected
markup can restyle a page), no other origin for anything, no framing, and forms post to
Kizuna only, or to a configured IdP: the sign-out form's answer redirects to its
end-session endpoint, and browsers hold that redirect to `form-action` too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from kizuna.auth.trust import Trust
from kizuna.platform.i18n import Language, Message

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
ASSETS = "/assets"

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_environment)
_static = StaticFiles(directory=STATIC_DIR)

_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'{idps}"
)
PAGE_HEADERS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "vary": "Accept-Language",
}
# The stylesheets: revalidated every time (StaticFiles answers 304 to a matching ETag),
# since they change with Kizuna under the same URL.
_ASSET_HEADERS = {"cache-control": "no-cache", "x-content-type-options": "nosniff"}


def policy(trust: Trust) -> str:
    """The page's Content-Security-Policy: `form-action` adds the origin of every
    configured IdP that is named by a URL (the development IdP is Kizuna itself)."""
    origins = sorted(
        {
            f"{parts.scheme}://{parts.netloc}"
            for parts in map(urlsplit, trust.issuers)
            if parts.scheme in ("https", "http")
        }
    )
    return _POLICY.format(idps="".join(f" {origin}" for origin in origins))


def render(
    request: Request, template: str, language: Language, context: dict[str, Any], *, status: int = 200
) -> Response:
    """`template` with `context`, `language` and `t(Message)` (the message in `language`)."""
    trust: Trust = request.app.state.trust
    headers = PAGE_HEADERS | {"content-security-policy": policy(trust)}
    full = {"language": language, "t": lambda message: Message[message].in_(language)} | context
    return templates.TemplateResponse(request, template, full, status_code=status, headers=headers)


async def asset(request: Request) -> Response:
    """A stylesheet (or another file) of `static/`; 404 for anything else."""
    response = await _static.get_response(request.path_params["path"], request.scope)
    response.headers.update(_ASSET_HEADERS)
    return response
