"""What every mutation payload shares: `userErrors` for input that broke a rule."""

from __future__ import annotations

import strawberry

from kizuna.platform.i18n import Language
from kizuna.schema.errors import Refused, UserErrorCode

strawberry.enum(UserErrorCode, description="入力を受け付けなかった理由")
_LABELS = {
    UserErrorCode.BAD_USER_INPUT: "入力が正しくない",
    UserErrorCode.FORBIDDEN: "この役割では行えない",
    UserErrorCode.NOT_FOUND: "対象が見つからない",
    UserErrorCode.CONFLICT: "既存のデータと重なる",
}
for _value in UserErrorCode.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = _LABELS[UserErrorCode(_value.value)]


@strawberry.type(description="受け付けなかった入力と、その理由")
class UserError:
    field: str | None = strawberry.field(description="問題のある入力項目（入力全体なら null）")
    message: str
    code: UserErrorCode


def user_error(refusal: Refused, language: Language) -> UserError:
    return UserError(field=refusal.field, message=refusal.text(language), code=refusal.code)
