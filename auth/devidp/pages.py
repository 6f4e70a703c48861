"""The development IdP's pages: sign-in, error and signed out.

Plain HTML in the language the browser prefers (Japanese unless it prefers English),
without scripts or external assets. Every value
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
from kizuna.platform.i18n import Language, Message

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
        "Vary": "Accept-Language",
    }


def _text(language: Language, message: Message) -> str:
    return escape(message.in_(language))


def _document(language: Language, title: Message, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_text(language, title)}</title><style>{_STYLE}</style></head>\n<body>{body}</body></html>\n"
    )


def sign_in_page(
    language: Language,
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
        f"<h1>{_text(language, Message.DEV_SIGN_IN)}</h1><p>{_text(language, Message.DEV_SIGN_IN_LEAD)}</p>"
        f"<p>{_text(language, Message.DEV_CLIENT)}: <code>{escape(client_id)}</code><br>"
        f"{_text(language, Message.DEV_SCOPE)}: <code>{escape(scope)}</code></p>"
        f'<form method="post" action="{escape(action)}">{hidden}{fieldsets}</form>'
    )
    return HTMLResponse(
        _document(language, Message.DEV_SIGN_IN, body), headers=_headers(f"'self' {redirect_origin}".rstrip())
    )


def error_page(language: Language, error: str, description: str) -> HTMLResponse:
    """The answer to an authorization request that cannot be sent back to its client.
    `error` is the OAuth error code; `description` is for the client's developer (authlib
    writes its own in English)."""
    body = (
        f"<h1>{_text(language, Message.DEV_CANNOT_SIGN_IN)}</h1><p>{_text(language, Message.DEV_INVALID_REQUEST)}</p>"
        f"<p><code>{escape(error)}</code>: {escape(description)}</p>"
    )
    return HTMLResponse(
        _document(language, Message.DEV_CANNOT_SIGN_IN, body), status_code=400, headers=_headers("'none'")
    )


def signed_out_page(language: Language) -> HTMLResponse:
    body = f"<h1>{_text(language, Message.DEV_SIGNED_OUT)}</h1><p>{_text(language, Message.DEV_CLOSE_WINDOW)}</p>"
    return HTMLResponse(_document(language, Message.DEV_SIGNED_OUT, body), headers=_headers("'none'"))
