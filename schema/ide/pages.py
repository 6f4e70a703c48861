"""The browser's page at /graphql (development only) and every file it loads.

GraphiQL when `kizuna graphiql install` has put the pinned version into the data
directory, else Kizuna's own small query page (`static/query.js`, no framework), which
says how to install GraphiQL. Both load every script and style from Kizuna itself, so
they work on a network without the internet, under a policy that allows nothing else:
no inline script, no eval, no other origin. Both link back to the home page.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

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

_HEAD = (
    '<!doctype html>\n<html lang="ja"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
)
_HOME = '<nav class="kizuna-bar"><a id="home" href="/">← Kizuna ホーム / Home</a></nav>'

QUERY_PAGE = f"""{_HEAD}<title>GraphQL · Kizuna</title>
<link rel="stylesheet" href="{OWN_FILES}/query.css">
<script src="{OWN_FILES}/query.js" defer></script>
</head><body>{_HOME}
<main>
<h1>GraphQL</h1>
<p class="note">GraphiQL（補完とスキーマ一覧のあるエディタ）はインストールされていません。
Node.js と npm のある環境で <code>{npm.INSTALL_COMMAND}</code> を実行すると、このページが GraphiQL になります。<br>
<small>GraphiQL (an editor with completion and the schema's documentation) is not installed.
Run <code>{npm.INSTALL_COMMAND}</code> where Node.js and npm are present, and this page becomes GraphiQL.</small></p>
<form id="query-form">
<label for="query">クエリ / Query</label>
<textarea id="query" rows="10" spellcheck="false">{{ viewer {{ subject role municipality {{ name }} }} }}</textarea>
<label for="variables">変数 / Variables (JSON)</label>
<textarea id="variables" rows="3" spellcheck="false"></textarea>
<p><button id="run" type="submit">実行 / Run</button> <small>Ctrl+Enter</small>
<output id="status"></output></p>
</form>
<h2>結果 / Answer</h2>
<pre id="answer"></pre>
</main>
</body></html>
"""

GRAPHIQL_PAGE = f"""{_HEAD}<title>GraphiQL · Kizuna</title>
<link rel="stylesheet" href="{GRAPHIQL_FILES}/graphiql.min.css">
<link rel="stylesheet" href="{OWN_FILES}/graphiql-page.css">
<script src="{GRAPHIQL_FILES}/react.production.min.js" defer></script>
<script src="{GRAPHIQL_FILES}/react-dom.production.min.js" defer></script>
<script src="{GRAPHIQL_FILES}/graphiql.min.js" defer></script>
<script src="{OWN_FILES}/graphiql-start.js" defer></script>
</head><body>{_HOME}
<div id="graphiql">読み込み中… / Loading…</div>
</body></html>
"""


def _page(html: str, policy: str) -> HTMLResponse:
    headers = _HEADERS | {"content-security-policy": policy, "x-frame-options": "DENY"}
    return HTMLResponse(html, headers=headers)


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

    def page(self) -> HTMLResponse:
        """GraphiQL once installed (looked up on every request, so an install shows at
        once), else Kizuna's own query page."""
        if npm.is_installed(self.graphiql_dir):
            return _page(GRAPHIQL_PAGE, GRAPHIQL_POLICY)
        return _page(QUERY_PAGE, QUERY_PAGE_POLICY)

    async def own_file(self, request: Request) -> Response:
        return await _file(self._own, request.path_params["name"], request)

    async def graphiql_file(self, request: Request) -> Response:
        path = GRAPHIQL_BUILD.get(request.path_params["name"])
        if path is None or not npm.is_installed(self.graphiql_dir):
            raise HTTPException(404)
        return await _file(self._graphiql, path, request)
