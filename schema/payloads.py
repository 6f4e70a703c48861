"""What every mutation payload shares: `userErrors` for input that broke a rule."""

from __future__ import annotations

import strawberry

from kizuna.platform.i18n import Language
from kizuna.schema.cost import ListSize
from kizuna.schema.enums import UserErrorCode
from kizuna.schema.errors import Refused

# A refused mutation answers one user error (`Payload.refused`), a done one none.
ONE_USER_ERROR = ListSize(assumed_size=1)


@strawberry.type(description="受け付けなかった入力と、その理由")
class UserError:
    field: str | None = strawberry.field(description="問題のある入力項目（入力全体なら null）")
    message: str
    code: UserErrorCode
    rule: str = strawberry.field(
        description="破られた規則の名前（英大文字、変わらない識別子。例: REFERRAL_ALREADY_DECIDED）。"
        "`code` は種類、`rule` はどの規則か。システムは文言ではなくこれで分岐する"
    )


def user_error(refusal: Refused, language: Language) -> UserError:
    # The rule is the message's catalogue key: one key per rule, in every language.
    return UserError(field=refusal.field, message=refusal.text(language), code=refusal.code, rule=refusal.message.name)
