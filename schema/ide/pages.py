"""The browser's page at /graphql (development only) and every file it loads.

GraphiQL when `kizuna graphiql install` has put the pinned version into the data
directory, else Kizuna's own small query page (`static/query.js`, no framework), which
says how to install GraphiQL. Both load every script and style from Kizuna itself, so
they work on a network without the internet, under a policy that allows nothing else:
no inline script, no eval, no other origin. Both link back to the home page.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

from kizuna.platform.i18n import Language, Message, negotiate
from kizuna.schema.ide import npm

STATIC_DIR = Path(__file__).resolve().parent / "static"
OWN_FILES = "/graphql/ide/kizuna"
GRAPHIQL_FILES = "/graphql/ide/graphiql"
# The only files served from node_modules: the browser (UMD) builds the GraphiQL page
# loads, and GraphiQL's source maps for a developer's tools.
GRAPHIQL_BUILD = {
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.js.map": "graphiql/graphiql.min.js.map",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "graphiql.min.css.map": "graphiql/graphiql.min.css.map",
}

QUERY_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# GraphiQL's stylesheet carries its fonts (Roboto, Fira Code) inline as data: URLs, and its
# dialogs lock the page's scrolling with one inline stylesheet (react-remove-scroll-bar's,
# for a page without a scroll bar, as this one is): that stylesheet alone, by its hash.
GRAPHIQL_POLICY = (
    "default-src 'none'; script-src 'self'; "
    "style-src 'self' 'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='; font-src data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# On the pages and on every file they load.
_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    # Revalidated every time (StaticFiles answers 304 to a matching ETag): the files
    # change when Kizuna or the installed GraphiQL does, under the same URL.
    "cache-control": "no-cache",
}


def _text(language: Language, message: Message) -> str:
    return html.escape(message.in_(language))


def _document(language: Language, title: str, head: str, body: str) -> str:
    """A page: `head` loads its files, and a link home comes before `body`."""
    return (
        f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title>\n{head}</head><body>\n"
        f'<nav class="kizuna-bar"><a id="home" href="/">{_text(language, Message.IDE_HOME)}</a></nav>\n'
        f"{body}</body></html>\n"
    )


def _query_page(language: Language) -> str:
    text = functools.partial(_text, language)
    head = f"""<link rel="stylesheet" href="{OWN_FILES}/query.css">
<script src="{OWN_FILES}/query.js" defer></script>
"""
    # The script's own messages come in data- attributes: nothing inline.
    body = f"""<main>
<h1>GraphQL</h1>
<p class="note">{text(Message.IDE_NOT_INSTALLED)}<br>
{text(Message.IDE_HOW_TO_INSTALL)}<br><code>{npm.INSTALL_COMMAND}</code></p>
<form id="query-form" data-not-json="{text(Message.IDE_VARIABLES_NOT_JSON)}" \
data-failed="{text(Message.IDE_REQUEST_FAILED)}">
<label for="query">{text(Message.IDE_QUERY)}</label>
<textarea id="query" rows="10" spellcheck="false">{{ viewer {{ subject role municipality {{ name }} }} }}</textarea>
<label for="variables">{text(Message.IDE_VARIABLES)}</label>
<textarea id="variables" rows="3" spellcheck="false"></textarea>
<p><button id="run" type="submit">{text(Message.IDE_RUN)}</button> <small>Ctrl+Enter</small>
<output id="status"></output></p>
</form>
<h2>{text(Message.IDE_ANSWER)}</h2>
<pre id="answer"></pre>
</main>
"""
    return _document(language, "GraphQL · Kizuna", head, body)


def _graphiql_page(language: Language) -> str:
    head = f"""<link rel="stylesheet" href="{GRAPHIQL_FILES}/graphiql.min.css">
<link rel="stylesheet" href="{OWN_FILES}/graphiql-page.css">
<script src="{GRAPHIQL_FILES}/react.production.min.js" defer></script>
<script src="{GRAPHIQL_FILES}/react-dom.production.min.js" defer></script>
<script src="{GRAPHIQL_FILES}/graphiql.min.js" defer></script>
<script src="{OWN_FILES}/graphiql-start.js" defer></script>
"""
    body = f'<div id="graphiql">{_text(language, Message.IDE_LOADING)}</div>\n'
    return _document(language, "GraphiQL · Kizuna", head, body)


def _page(page: str, policy: str) -> HTMLResponse:
    # The page is in the browser's language.
    headers = _HEADERS | {"content-security-policy": policy, "x-frame-options": "DENY", "vary": "Accept-Language"}
    return HTMLResponse(page, headers=headers)


async def _file(files: StaticFiles, path: str, request: Request) -> Response:
    """`path` from `files` (404 if it is not there), revalidated through its ETag."""
    response = await files.get_response(path, request.scope)
    response.headers.update(_HEADERS)
    return response


class IDE:
    """The page for `GET /graphql` from a browser, and the routes of its files."""

    def __init__(self, graphiql_dir: Path) -> None:
        self.graphiql_dir = graphiql_dir
        self._own = StaticFiles(directory=STATIC_DIR)
        self._graphiql = StaticFiles(directory=graphiql_dir / "node_modules", check_dir=False)

    def routes(self) -> list[Route]:
        return [
            Route(f"{OWN_FILES}/{{name}}", self.own_file, methods=["GET"]),
            Route(f"{GRAPHIQL_FILES}/{{name}}", self.graphiql_file, methods=["GET"]),
        ]

    def page(self, request: Request) -> HTMLResponse:
        """GraphiQL once installed (looked up on every request, so an install shows at
        once), else Kizuna's own query page; in the language `Accept-Language` prefers."""
        language = negotiate(request.headers.get("accept-language"))
        if npm.is_installed(self.graphiql_dir):
            return _page(_graphiql_page(language), GRAPHIQL_POLICY)
        return _page(_query_page(language), QUERY_PAGE_POLICY)

    async def own_file(self, request: Request) -> Response:
        return await _file(self._own, request.path_params["name"], request)

    async def graphiql_file(self, request: Request) -> Response:
        path = GRAPHIQL_BUILD.get(request.path_params["name"])
        if path is None or not npm.is_installed(self.graphiql_dir):
            raise HTTPException(404)
        return await _file(self._graphiql, path, request)
