"""The development IdP's pages: sign-in, error and signed out.

Plain HTML in Japanese and English, without scripts or external assets. Every value
from a request or from configuration passes through `html.escape`, and the
Content-Security-Policy forbids scripts, framing and foreign form targets should
anything slip through.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from html import escape

from starlette.responses import HTMLResponse

from kizuna.auth.devidp.model import DevUser

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "fieldset{border:1px solid #ccc;border-radius:6px;margin:0 0 1rem}"
    "button{display:block;width:100%;text-align:left;margin:.3rem 0;padding:.5rem;font:inherit;cursor:pointer}"
    "small{color:#555}code{word-break:break-all}"
)
# The one stylesheet is allowed by its hash, so the policy needs no 'unsafe-inline'.
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
_GROUP_SEPARATOR = " · "


def _headers(form_action: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action {form_action}; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        # The page's URL carries the authorization request; the client need not see it.
        "Referrer-Policy": "no-referrer",
    }


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>{body}</body></html>\n"
    )


def sign_in_page(
    *,
    action: str,
    redirect_origin: str,
    client_id: str,
    scope: str,
    parameters: Sequence[tuple[str, str]],
    users: Sequence[DevUser],
) -> HTMLResponse:
    """The sign-in page: one button per user, the authorization request in hidden fields.

    `redirect_origin` must come from a validated redirect URI, or be "" for this origin:
    browsers apply the page's `form-action` to the redirect that answers the form, so the
    client's origin goes into the policy.
    """
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">' for name, value in parameters
    )
    groups: dict[str, list[DevUser]] = {}
    for user in users:
        groups.setdefault(user.description.partition(_GROUP_SEPARATOR)[0], []).append(user)
    fieldsets = "".join(
        f"<fieldset><legend>{escape(group)}</legend>"
        + "".join(
            f'<button type="submit" name="subject" value="{escape(user.subject)}">{escape(user.display_name)}'
            f"<br><small>{escape(user.description)} · <code>{escape(user.subject)}</code></small></button>"
            for user in members
        )
        + "</fieldset>"
        for group, members in groups.items()
    )
    body = (
        "<h1>開発用サインイン <small>Development sign-in</small></h1>"
        "<p>開発環境専用の IdP です。パスワードはありません。利用者を選んでください。<br>"
        "<small>This identity provider exists for development only; there are no passwords. "
        "Choose who to sign in as.</small></p>"
        f"<p>クライアント Client: <code>{escape(client_id)}</code><br>"
        f"スコープ Scope: <code>{escape(scope)}</code></p>"
        f'<form method="post" action="{escape(action)}">{hidden}{fieldsets}</form>'
    )
    return HTMLResponse(
        _document("開発用サインイン / Development sign-in", body),
        headers=_headers(f"'self' {redirect_origin}".rstrip()),
    )


def error_page(error: str, description: str) -> HTMLResponse:
    """The answer to an authorization request that cannot be sent back to its client."""
    body = (
        "<h1>サインインできません <small>Sign-in failed</small></h1>"
        "<p>認可リクエストが無効です。クライアントの設定を確認してください。<br>"
        "<small>The authorization request is invalid; check the client's configuration.</small></p>"
        f"<p><code>{escape(error)}</code>: {escape(description)}</p>"
    )
    return HTMLResponse(
        _document("サインインできません / Sign-in failed", body), status_code=400, headers=_headers("'none'")
    )


def signed_out_page() -> HTMLResponse:
    body = (
        "<h1>サインアウトしました <small>Signed out</small></h1>"
        "<p>このウィンドウを閉じてかまいません。<br><small>You may close this window.</small></p>"
    )
    return HTMLResponse(_document("サインアウト / Signed out", body), headers=_headers("'none'"))
