"""The language a person reads: negotiated from `Accept-Language`, Japanese by default,
and the catalogue of every message that reaches a person, in Japanese and English.

A catalogue in code rather than gettext: gettext keys a text by its English source,
falls back to it silently when a translation is missing and needs compiled .mo files,
while a `Message` member is a typed key whose two texts are both required when it is
written, so a missing one fails at import and in mypy (Babel's catalogues are gettext's;
starlette and strawberry have none, nor an `Accept-Language` parser).
Codes (`extensions.code`, a user error's `code`) are never translated; only these texts are.
"""

from __future__ import annotations

import enum
import re
import string
from dataclasses import dataclass
from functools import lru_cache


class Language(enum.StrEnum):
    """A language Kizuna speaks; the value is its language tag (`<html lang>`)."""

    JA = "ja"
    EN = "en"


DEFAULT = Language.JA
_BY_TAG = {language.value: language for language in Language}

# RFC 9110 §12.5.4: a language range, optionally a weight. Anything else in an element
# makes the element void (it is skipped), never the whole header.
_ELEMENT = re.compile(
    r"(?P<range>\*|[a-z]{1,8}(?:-[a-z0-9]{1,8})*)"
    r"(?:[ \t]*;[ \t]*q=(?P<q>0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?))?",
    re.ASCII | re.IGNORECASE,
)


@lru_cache(maxsize=256)
def negotiate(accept_language: str | None) -> Language:
    """The language to answer in: the one the header weighs highest, Japanese when the
    header is absent, malformed or accepts neither.

    A range counts for the language of its primary subtag (`en-US` and `en-GB` ask for
    English, `ja-JP` for Japanese), the highest weight of such ranges wins, and `*` weighs
    every language that no range names. `q=0` means "not acceptable". Between equal weights
    the range written first wins, as browsers list their languages in order of preference.
    """
    if not accept_language:
        return DEFAULT
    named: dict[Language, tuple[float, int]] = {}
    anything: tuple[float, int] | None = None
    for position, element in enumerate(accept_language.split(",")):
        match = _ELEMENT.fullmatch(element.strip(" \t"))
        if match is None:
            continue
        weight = (float(match["q"] or 1), -position)
        primary = match["range"].partition("-")[0].lower()
        language = _BY_TAG.get(primary)
        if language is not None:
            named[language] = max(named.get(language, weight), weight)
        elif primary == "*":
            anything = weight if anything is None else max(anything, weight)
    weights = {language: named.get(language, anything) for language in Language}
    acceptable = {language: weight for language, weight in weights.items() if weight is not None and weight[0] > 0}
    if not acceptable:
        return DEFAULT
    # A tie left (`*` alone weighs every language alike) goes to the default.
    return max(acceptable, key=lambda language: (acceptable[language], language is DEFAULT))


@dataclass(frozen=True, slots=True)
class Text:
    """One message in every `Language`: one field per language, named by its value, all
    required. Placeholders (`{max}`) are `str.format` fields, the same in every text."""

    ja: str
    en: str

    def in_(self, language: Language) -> str:
        text: str = getattr(self, language.value)
        return text

    def placeholders(self, language: Language) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.in_(language)) if name)


@enum.unique  # two keys with the same texts would silently become one
class Message(enum.Enum):
    """Every message that reaches a person. Polite Japanese (です・ます), as a municipal
    website writes it; the English is for staff who asked for it."""

    # Kizuna's own pages (auth/browser.py)
    SIGN_IN = Text("サインイン", "Sign in")
    SIGN_OUT = Text("サインアウト", "Sign out")
    SIGNED_OUT = Text("サインアウトしました。", "You have signed out.")
    CHOOSE_ISSUER = Text("サインインに使うアカウントを選んでください。", "Choose the account to sign in with.")
    CURRENT_MUNICIPALITY = Text("（選択中）", " (current)")
    WORK_IN_MUNICIPALITY = Text("この団体で作業する", "Work in this municipality")
    ADMINISTERED_MUNICIPALITIES = Text("管理する団体", "Municipalities you administer")
    OPEN_GRAPHQL = Text("GraphQL の画面を開く", "Open GraphQL")
    UNKNOWN_ISSUER = Text("指定された認証サービスは登録されていません。", "Unknown identity provider.")
    ISSUER_UNREACHABLE = Text(
        "認証サービスに接続できません。しばらくしてから、もう一度お試しください。",
        "The identity provider cannot be reached. Try again later.",
    )
    SIGN_IN_FAILED = Text("サインインできませんでした。", "Sign-in failed.")
    SIGN_IN_AGAIN = Text("もう一度サインインする", "Try again")
    NO_MEMBERSHIP = Text(
        "このアカウントには Kizuna を利用する権限がありません。所属先の管理者にお問い合わせください。",
        "This account has no membership in Kizuna. Ask your organisation's administrator.",
    )
    CROSS_SITE = Text("ほかのサイトからの操作は受け付けられません。", "Cross-site request refused.")
    NO_SUCH_MUNICIPALITY = Text("指定された団体はありません。", "No such municipality.")
    NO_MEMBERSHIP_THERE = Text("その団体を利用する権限がありません。", "No membership in that municipality.")

    # Kizuna's pages (schema/pages/)
    SKIP_TO_MAIN = Text("本文へ移動", "Skip to the content")
    SIGNED_IN_AS = Text("サインイン中", "Signed in")
    PAGE_SIGN_IN_NEEDED = Text("このページを見るにはサインインしてください。", "Sign in to see this page.")
    PAGE_NOT_AVAILABLE = Text(
        "このページは表示できません。所属と役割をご確認ください。",
        "This page cannot be shown. Check the membership you work in.",
    )
    PAGE_BAD_REQUEST = Text(
        "ページの指定が正しくありません。ホームからもう一度お試しください。",
        "The page's address is not valid. Start again from the home page.",
    )
    PAGE_RATE_LIMITED = Text(
        "短い時間に多くの操作がありました。少し待ってから、もう一度お試しください。",
        "Too many requests in a short time. Wait a moment and try again.",
    )
    BACK_HOME = Text("ホームへ戻る", "Back to the home page")

    # The pages of those who send referrals (schema/pages/school.py)
    SCHOOL_URGENCY_NEEDED = Text("緊急度を選んでください。", "Choose the urgency.")

    # The case page's forms (schema/pages/case.py, issue 17 pages-case)
    CASE_PAGE_CHOOSE = Text("選択肢から選んでください。", "Choose one of the options.")
    CASE_PAGE_DATE = Text("日付を入力してください。", "Enter a date.")
    CASE_PAGE_DATE_TIME = Text("日付と時刻を入力してください。", "Enter a date and a time.")
    CASE_PAGE_MINUTES = Text("時間を分の数（半角数字）で入力してください。", "Enter the minutes as a number.")

    # The page a browser gets when a request fails (platform/app.py)
    SERVICE_UNAVAILABLE = Text(
        "ただいま利用できません。しばらくしてから、もう一度お試しください。",
        "The service is unavailable for a moment. Try again shortly.",
    )
    INTERNAL_ERROR = Text(
        "エラーが発生しました。お問い合わせの際は、下のリクエスト ID をお伝えください。",
        "Something went wrong. If you contact us, quote the request id below.",
    )
    REQUEST_ID = Text("リクエスト ID", "Request id")

    # The development IdP's pages (auth/devidp/pages.py)
    DEV_SIGN_IN = Text("開発用サインイン", "Development sign-in")
    DEV_SIGN_IN_LEAD = Text(
        "開発環境専用の認証サービスです。パスワードはありません。サインインする利用者を選んでください。",
        "This identity provider exists for development only; there are no passwords. Choose who to sign in as.",
    )
    DEV_CLIENT = Text("クライアント", "Client")
    DEV_SCOPE = Text("スコープ", "Scope")
    DEV_CANNOT_SIGN_IN = Text("サインインできません", "Sign-in failed")
    DEV_INVALID_REQUEST = Text(
        "認可リクエストが正しくありません。クライアントの設定をご確認ください。",
        "The authorization request is invalid; check the client's configuration.",
    )
    DEV_BAD_CHARACTER = Text(
        "パラメーターに使用できない文字が含まれています。", "A parameter holds a character it may not."
    )
    DEV_UNKNOWN_USER = Text(
        "選ばれた利用者は開発用の利用者ではありません。", "The chosen subject is not a development user."
    )
    DEV_SIGNED_OUT = Text("サインアウトしました", "Signed out")
    DEV_CLOSE_WINDOW = Text("このウィンドウは閉じていただいてかまいません。", "You may close this window.")

    # The /graphql page for browsers (schema/ide/pages.py, static/query.js)
    IDE_HOME = Text("← Kizuna のホームへ", "← Kizuna home")
    IDE_LOADING = Text("読み込み中…", "Loading…")
    IDE_NOT_INSTALLED = Text(
        "GraphiQL（入力補完とスキーマの説明がある GraphQL エディター）はインストールされていません。",
        "GraphiQL (a GraphQL editor with completion and the schema's documentation) is not installed.",
    )
    IDE_HOW_TO_INSTALL = Text(
        "Node.js と npm のある環境で次のコマンドを実行すると、このページが GraphiQL になります。",
        "Run this command where Node.js and npm are present, and this page becomes GraphiQL.",
    )
    IDE_QUERY = Text("クエリ", "Query")
    IDE_VARIABLES = Text("変数（JSON）", "Variables (JSON)")
    IDE_RUN = Text("実行", "Run")
    IDE_ANSWER = Text("結果", "Answer")
    IDE_VARIABLES_NOT_JSON = Text("変数が JSON ではありません。", "The variables are not JSON.")
    IDE_REQUEST_FAILED = Text("送信できませんでした。", "The request could not be sent.")

    # Mutations' user errors (schema/memberships)
    MALFORMED_ID = Text("ID の形式が正しくありません。", "Malformed id.")
    NO_SUCH_ORGANISATION = Text("指定された組織が見つかりません。", "No such organisation.")
    NO_SUCH_MEMBERSHIP = Text("指定された所属が見つかりません。", "No such membership.")
    MAY_NOT_MANAGE_MEMBERSHIPS = Text("この役割では所属を管理できません。", "Your role may not manage memberships.")
    SUPERVISOR_MAY_NOT_GRANT = Text(
        "スーパーバイザーはこの役割を付与できません。", "A supervisor may not grant this role."
    )
    ROLE_ONLY_IN_PREFECTURE = Text(
        "この役割は県の団体でのみ付与できます。", "This role is held only in the prefecture's tenant."
    )
    ROLE_ONLY_IN_MUNICIPALITY = Text(
        "この役割は市町村の団体でのみ付与できます。", "This role is held only in a municipality's tenant."
    )
    UNTRUSTED_ISSUER = Text(
        "指定された認証サービス（発行者）は、この環境では信頼されていません。",
        "This deployment does not trust that issuer.",
    )
    SUBJECT_LENGTH = Text(
        "利用者の識別子は、表示できる文字で1〜{max}文字にしてください。",
        "The subject must be 1 to {max} printable characters.",
    )
    DISPLAY_NAME_LENGTH = Text(
        "表示名は1〜{max}文字で入力してください。", "The display name must be 1 to {max} characters."
    )
    IDEMPOTENCY_KEY_LENGTH = Text(
        "冪等キーは1〜{max}文字にしてください。", "The idempotency key must be 1 to {max} characters."
    )
    ORGANISATION_ELSEWHERE = Text(
        "指定された組織は、この団体の組織ではありません。", "The organisation does not serve this tenant."
    )
    ALREADY_GRANTED = Text(
        "この利用者は、この団体のこの組織で、すでにこの役割を持っています。",
        "This user already holds this role for this organisation here.",
    )
    IDEMPOTENCY_KEY_REUSED = Text(
        "この冪等キーは、別の付与ですでに使われています。", "This idempotency key was used for another grant."
    )
    SUPERVISOR_MAY_NOT_REVOKE = Text(
        "スーパーバイザーは、この役割の所属を取り消せません。", "A supervisor may not revoke this role's membership."
    )
    SELF_GRANT = Text(
        "ご自身に所属を付与することはできません。別の管理者に依頼してください。",
        "Nobody may grant a membership to themself; ask another administrator.",
    )
    OWN_MEMBERSHIP = Text("ご自身の所属は取り消せません。", "You may not revoke your own membership.")
    ALREADY_REVOKED = Text("この所属は、すでに取り消されています。", "This membership is already revoked.")
    CHANGED_MEANWHILE = Text(
        "この所属は処理中に変更されました。もう一度お試しください。", "This membership changed meanwhile; try again."
    )

    # The case workflow's refusals (schema/cases/workflow.py, dispatch_rules.py)
    ALREADY_IN_STAGE = Text("ケースはすでにこの段階にあります。", "The case is already in this stage.")
    TRANSITION_NOT_ALLOWED = Text(
        "ケースは今の段階から指定された段階へは進められません。",
        "The case cannot move from its current stage to that one.",
    )
    SUPPORT_PLAN_APPROVAL_REQUIRED = Text(
        "支援を始めるには、スーパーバイザーが承認した支援計画が必要です。",
        "Support starts only with a support plan approved by a supervisor.",
    )
    CLOSURE_APPROVAL_REQUIRED = Text(
        "終結には、スーパーバイザーの承認が必要です。", "Closing a case needs a supervisor's approval."
    )
    DISPATCH_STEP_NOT_ALLOWED = Text(
        "ヘルパー派遣は今の状況から指定された状況へは進められません。",
        "The helper dispatch cannot move from its current status to that one.",
    )
    PERIOD_NOT_AFTER_START = Text(
        "派遣期間の終了日は開始日より後にしてください。", "The period must end after it starts."
    )
    PERIOD_TOO_LONG = Text("派遣期間は{months}か月以内にしてください。", "The period may last at most {months} months.")
    EXTENSION_NOT_AFTER_END = Text(
        "延長後の終了日は、今の終了日より後にしてください。", "An extension must end after the current period."
    )
    EXTENSION_TOO_LONG = Text(
        "一度に延長できるのは{months}か月までです。", "One extension may last at most {months} months."
    )
    VISIT_MINUTES = Text("1回の訪問は1〜{max}分です。", "A visit lasts 1 to {max} minutes.")
    DISPATCH_NOT_DECIDED = Text(
        "派遣が決定される前の訪問は記録できません。", "Visits are recorded only once the dispatch is decided."
    )
    VISIT_OUTSIDE_PERIOD = Text(
        "訪問日が派遣期間（{start}〜{end}）の外です。", "The visit is outside the dispatch period ({start} to {end})."
    )
    SECOND_VISIT_IN_WEEK = Text(
        "同じ週（月曜〜日曜）には、すでに訪問があります。訪問は週1回までです。",
        "This week (Monday to Sunday) already has a visit; at most one visit a week.",
    )
    DATE_BEFORE_PREVIOUS_STEP = Text(
        "日付は前の手続きの日（{previous}）以降にしてください。",
        "The date must not be before the previous step's ({previous}).",
    )
    VISIT_TASKS_REQUIRED = Text("訪問で行った支援を1つ以上選んでください。", "Name at least one task of the visit.")
    VISIT_TASK_OUTSIDE_SERVICE = Text(
        "ヘルパー派遣で提供するのは家事・育児支援（家事、きょうだいの世話、見守り）です。",
        "The helper service provides housework and childcare only (housework, sibling care, watching over).",
    )
    DISPATCH_ALREADY_OPEN = Text(
        "このケースには終了していないヘルパー派遣があります。",
        "This case already has a helper dispatch that has not ended.",
    )
    CLOSE_WITH_OPEN_DISPATCH = Text(
        "ヘルパー派遣が終了していないため、ケースを終結できません。先に派遣を終了してください。",
        "The case cannot be closed while its helper dispatch has not ended: end the dispatch first.",
    )
    DISPATCH_FOR_CLOSED_CASE = Text(
        "終結したケースにはヘルパー派遣を申請できません。", "A closed case takes no helper dispatch application."
    )
    PROVIDER_REQUIRED = Text(
        "派遣を決定するには、派遣事業者を指定してください。", "Name the home-help provider before the decision."
    )
    NOT_A_PROVIDER = Text(
        "指定された組織はホームヘルプ事業者ではありません。", "The organisation is not a home-help provider."
    )
    NO_SUCH_DISPATCH = Text("指定されたヘルパー派遣が見つかりません。", "No such helper dispatch.")
    MAY_NOT_DISPATCH = Text("この役割ではヘルパー派遣を扱えません。", "Your role may not work helper dispatches.")
    PLAN_TEXT_LENGTH = Text(
        "派遣計画は1〜{max}文字で入力してください。", "The dispatch plan must be 1 to {max} characters."
    )
    VISIT_TEXT_LENGTH = Text(
        "訪問の記録は1〜{max}文字で入力してください。", "A visit's notes must be 1 to {max} characters."
    )
    DISPATCH_KEY_REUSED = Text(
        "この冪等キーは、別の申請や訪問の記録ですでに使われています。",
        "This idempotency key was used for another application or visit.",
    )

    # Referrals
    NO_SUCH_REFERRAL = Text("指定された気づき・相談が見つかりません。", "No such referral.")
    MAY_NOT_SEND_REFERRALS = Text("この役割では気づき・相談を送れません。", "Your role may not send referrals.")
    SOURCE_NOT_YOURS = Text(
        "この役割では、この経路の気づき・相談は送れません。", "Your role may not send a referral from this source."
    )
    NOTICED_LENGTH = Text(
        "気づいたことは1〜{max}文字で入力してください。", "What was noticed must be 1 to {max} characters."
    )
    CHILD_NAME_LENGTH = Text("呼び名は1〜{max}文字で入力してください。", "The name must be 1 to {max} characters.")
    REFERRAL_KEY_REUSED = Text(
        "この冪等キーは、別の気づき・相談ですでに使われています。",
        "This idempotency key was used for another referral.",
    )
    MAY_NOT_DECIDE_REFERRALS = Text(
        "この役割では気づき・相談を受理・不受理・統合できません。", "Your role may not decide referrals."
    )
    REFERRAL_ALREADY_DECIDED = Text(
        "この気づき・相談は、すでに処理されています。", "This referral has already been decided."
    )
    ACCEPT_INTO_ONE = Text(
        "既存のケース（caseId）か、新しいケースの本人（personId）のどちらか一方を指定してください。",
        "Name either an existing case (caseId) or the person of a new case (personId), not both.",
    )
    NO_SUCH_CASE = Text("指定されたケースが見つかりません。", "No such case.")
    ASSIGN_SOMETHING = Text(
        "担当者、コーディネーター、主担当機関のいずれかを指定してください。",
        "Name a worker, a coordinator or a lead organisation.",
    )
    NOT_A_WORKER = Text(
        "担当者には、この団体で有効なケースワーカー・コーディネーター・スーパーバイザーの所属を指定してください。",
        "The worker must be an active caseworker, coordinator or supervisor membership of this municipality.",
    )
    NOT_A_COORDINATOR = Text(
        "コーディネーターには、この団体で有効なコーディネーターの所属を指定してください。",
        "The coordinator must be an active coordinator membership of this municipality.",
    )
    ONLY_SUPERVISOR_ASSIGNS = Text(
        "ケースの担当を決められるのは、スーパーバイザーだけです。", "Only a supervisor assigns a case."
    )
    NO_SUCH_PERSON = Text("指定された人が見つかりません。", "No such person.")
    CASE_CLOSED = Text(
        "このケースは終結しています。再開してから受理してください。", "This case is closed; reopen it first."
    )
    CATEGORY_NEEDED = Text("新しいケースのケアラー区分を指定してください。", "Give the new case's carer category.")
    REASON_LENGTH = Text("理由は1〜{max}文字で入力してください。", "The reason must be 1 to {max} characters.")
    MERGE_INTO_UNDECIDED = Text(
        "統合先には、ケースに受理された気づき・相談を指定してください。",
        "Merge into a referral that was accepted into a case.",
    )
    MERGE_INTO_ITSELF = Text("同じ気づき・相談には統合できません。", "A referral cannot be merged into itself.")
    ONLY_SENDER_REVOKES = Text(
        "気づき・相談を取り下げられるのは、送った本人だけです。", "Only its sender may revoke a referral."
    )
    ONLY_SUPERVISOR_WITHDRAWS = Text(
        "気づき・相談を取り消せるのは、スーパーバイザーだけです。", "Only a supervisor may withdraw a referral."
    )
    REFERRAL_CHANGED_MEANWHILE = Text(
        "この気づき・相談は処理中に変更されました。もう一度お試しください。",
        "This referral changed meanwhile; try again.",
    )

    # Cases and approvals
    MAY_NOT_WORK_CASES = Text("この役割ではケースを進められません。", "Your role may not work cases.")
    NO_SUCH_APPROVAL = Text("指定された承認依頼が見つかりません。", "No such approval.")
    NO_SUCH_SUPPORT_PLAN = Text("このケースの支援計画が見つかりません。", "No such support plan of this case.")
    APPROVAL_NOT_NOW = Text(
        "このケースの今の段階では、この承認は必要ありません。", "The case's current stage needs no such approval."
    )
    PLAN_FOR_PLAN_APPROVAL_ONLY = Text(
        "支援計画の承認には支援計画を指定し、終結の承認には指定しないでください。",
        "Name the support plan for a plan's approval, and none for a closure.",
    )
    APPROVAL_ALREADY_REQUESTED = Text(
        "この承認は、すでに依頼されて判断を待っています。", "This approval is already requested and waiting."
    )
    ONLY_SUPERVISOR_DECIDES = Text(
        "承認・差戻しができるのはスーパーバイザーだけです。", "Only a supervisor approves or rejects."
    )
    APPROVAL_ALREADY_DECIDED = Text("この承認依頼は、すでに判断されています。", "This approval was already decided.")
    SELF_APPROVAL = Text(
        "ご自身が依頼した承認は判断できません。別のスーパーバイザーに依頼してください。",
        "Nobody decides an approval they requested; ask another supervisor.",
    )
    REJECTION_NEEDS_REASON = Text("差し戻す理由を入力してください。", "Give the reason for the rejection.")
    # Sharing, consent and break the glass (schema/sharing/)
    MAY_NOT_SHARE = Text("この役割ではこの共有の操作はできません。", "Your role may not do this sharing operation.")
    NO_SUCH_PARTICIPANT = Text("指定された参加機関が見つかりません。", "No such participating organisation.")
    NOT_A_PARTICIPANT = Text(
        "共有できるのは、このケースの参加機関だけです。",
        "Only an organisation taking part in the case can be shared with.",
    )
    ROLE_LENGTH = Text("役割は1〜{max}文字で入力してください。", "The role must be 1 to {max} characters.")
    PURPOSE_LENGTH = Text("目的は1〜{max}文字で入力してください。", "The purpose must be 1 to {max} characters.")
    YOTAIKYO_ALREADY = Text(
        "このケースの要保護児童対策地域協議会への登録は、すでにその状態です。",
        "The case's yotaikyo registration is already so.",
    )
    NO_SUCH_CONSENT = Text("指定された同意が見つかりません。", "No such consent.")
    CONSENT_ALREADY_WITHDRAWN = Text("この同意は、すでに撤回されています。", "This consent was already withdrawn.")
    GUARDIAN_NAMED = Text(
        "保護者による同意には保護者の氏名を、本人による同意には氏名なしで入力してください。",
        "Name the guardian for a guardian's consent, and nobody for the person's own.",
    )
    CONSENT_NAMES_NOBODY = Text(
        "共有先の機関または機関の種別を1つ以上指定してください（{max}件まで）。",
        "Name at least one organisation or kind of organisation to share with (at most {max}).",
    )
    CONSENT_EXPIRY = Text(
        "有効期限は今日より後、{max}日以内の日付にしてください。",
        "The expiry must be after today and at most {max} days away.",
    )
    EMERGENCY_REASON = Text(
        "理由は{min}〜{max}文字で具体的に入力してください。", "Write the reason in {min} to {max} characters."
    )
    EMERGENCY_HOURS = Text("時間は1〜{max}時間で指定してください。", "The hours must be 1 to {max}.")
    GOALS_LENGTH = Text("目標は1〜{max}文字で入力してください。", "The goals must be 1 to {max} characters.")
    PLAN_PERIOD = Text(
        "計画の期間は、開始日から1年以内の終了日にしてください。", "A plan ends on or after its start, within a year."
    )

    # People
    MAY_NOT_RECORD_PEOPLE = Text(
        "この役割では人・世帯・ケアの関係を登録できません。",
        "Your role may not record people, households or care relationships.",
    )
    PERSON_NAME_LENGTH = Text(
        "氏名・ふりがな・世帯名は、それぞれ1〜{max}文字で入力してください。",
        "Each name, reading and household name must be 1 to {max} characters.",
    )
    READING_IN_KANA = Text("ふりがなは、ひらがなかカタカナで入力してください。", "Give the reading in kana.")
    BIRTH_DATE_RANGE = Text(
        "生年月日は1900年1月1日から今日までの日付で入力してください。",
        "The birth date must be between 1 January 1900 and today.",
    )
    ONE_HOUSEHOLD = Text(
        "既存の世帯（householdId）か、新しい世帯の名前（householdName）のどちらか一方を指定してください。",
        "Name either an existing household (householdId) or a new household's name (householdName), not both.",
    )
    GRADE_NEEDS_SCHOOL = Text("学年を入れるときは、学校も指定してください。", "A grade needs a school.")
    SCHOOL_GRADE_RANGE = Text("学年は1〜12で入力してください。", "The grade must be 1 to 12.")
    NOT_A_SCHOOL = Text("指定された組織は学校ではありません。", "This organisation is not a school.")
    NO_SUCH_HOUSEHOLD = Text("指定された世帯が見つかりません。", "No such household.")
    POSSIBLE_DUPLICATES = Text(
        "同じ氏名（またはふりがな）と生年月日の人が登録されています。候補を確かめ、別の人であれば"
        " confirmedNotDuplicate を true にして登録してください。",
        "A person with the same name (or reading) and birth date is already recorded. Check the candidates;"
        " if this is someone else, create again with confirmedNotDuplicate set to true.",
    )
    PERSON_KEY_REUSED = Text(
        "この冪等キーは、別の人の登録ですでに使われています。", "This idempotency key was used for another person."
    )
    PERSON_CHANGED_MEANWHILE = Text(
        "同じ冪等キーの登録が同時に行われました。もう一度お試しください。",
        "A creation with the same idempotency key ran at the same time; try again.",
    )
    NO_SUCH_CARE_RELATIONSHIP = Text("指定されたケアの関係が見つかりません。", "No such care relationship.")
    CARE_FOR_ONESELF = Text(
        "ケアをする人とケアを受ける人には、別の人を指定してください。",
        "The carer and the cared-for person must differ.",
    )
    RELATIONSHIP_LENGTH = Text(
        "続柄は1〜{max}文字で入力してください。", "The relationship must be 1 to {max} characters."
    )
    HOURS_PER_WEEK = Text(
        "1週間のケアの時間は0〜{max}時間で、小数は1桁までで入力してください。",
        "Hours per week must be 0 to {max}, with at most one decimal.",
    )
    CARE_ALREADY_RECORDED = Text(
        "この二人のケアの関係は、すでに登録されています。",
        "The care relationship between these two people is already recorded.",
    )
    CARE_KEY_REUSED = Text(
        "この冪等キーは、別のケアの関係の登録ですでに使われています。",
        "This idempotency key was used for another care relationship.",
    )
    MAY_NOT_MERGE_PEOPLE = Text(
        "この役割では人の統合・統合の取り消しはできません。", "Your role may not merge people or undo a merge."
    )
    PERSON_NOT_MERGED = Text("この人は、別の人に統合されていません。", "This person has not been merged into another.")
    MERGE_INTO_ONESELF = Text(
        "残す人と重複の人には、別の人を指定してください。", "The person kept and the duplicate must differ."
    )
    PERSON_ALREADY_MERGED = Text(
        "この人はすでに別の人に統合されています。統合先の人を指定してください。",
        "This person has already been merged into another; name that person instead.",
    )
    MERGE_CARE_BETWEEN = Text(
        "この二人の間にケアの関係が登録されています。統合すると自分自身をケアすることになるため、"
        "先にその関係を削除してください。",
        "A care relationship links these two people; merged, the person would care for themself."
        " Remove that relationship first.",
    )
    MERGE_CARE_ON_BOTH = Text(
        "二人とも同じ相手とのケアの関係が登録されています。統合すると重複するため、"
        "正しくない方を先に削除してください。",
        "Both people have a care relationship with the same person; merged, it would be doubled."
        " Remove the one that is wrong first.",
    )
    MERGE_UNDO_LATER_FIRST = Text(
        "残した人がその後、別の人に統合されています。先にその統合を取り消してください。",
        "The person kept has since been merged into another; undo that merge first.",
    )
    MERGE_CHANGED_SINCE = Text(
        "統合で移した記録の一部が、その後変更または削除されたため、元に戻せません。",
        "Some of the records the merge moved have since been changed or removed; it cannot be undone exactly.",
    )

    # Case records: assessments, meetings, contact logs
    MAY_NOT_RECORD_CASE_WORK = Text(
        "この役割ではアセスメント・会議・支援記録を登録できません。",
        "Your role may not record assessments, meetings or contacts.",
    )
    CASE_CLOSED_FOR_RECORDS = Text(
        "このケースは終結しています。記録を追加するには、ケースを再開してください。",
        "This case is closed; reopen it to add records.",
    )
    TIME_ZONE_REQUIRED = Text(
        "日時はタイムゾーン付きで入力してください（例：2026-04-01T10:00:00+09:00）。",
        "Give the time with its time zone (e.g. 2026-04-01T10:00:00+09:00).",
    )
    DATE_IN_FUTURE = Text("未来の日付・日時は記録できません。", "The date or time cannot be in the future.")
    RECORD_KEY_REUSED = Text(
        "この冪等キーは、別の記録の登録ですでに使われています。", "This idempotency key was used for another record."
    )
    RECORD_CHANGED_MEANWHILE = Text(
        "同じ冪等キーの登録が同時に行われました。もう一度お試しください。",
        "A record with the same idempotency key was written at the same time; try again.",
    )
    EFFECT_SCALE = Text("影響の程度は0〜3で入力してください。", "Each effect must be 0 to 3.")
    RECORD_TEXT_LENGTH = Text("1〜{max}文字で入力してください。", "This must be 1 to {max} characters.")
    REVIEW_BEFORE_MEETING = Text(
        "次回の見直し日は、会議の日以降にしてください。", "The next review is on or after the meeting."
    )
    PARTICIPANT_COUNT = Text("参加者は1〜{max}人で入力してください。", "A meeting has 1 to {max} participants.")

    # Submissions and indicators (issue 16, items 2 and 3)
    MAY_NOT_DRAFT_FIGURES = Text(
        "この役割では体制整備・事業実績を入力できません。", "Your role may not enter the municipality's figures."
    )
    ONLY_SUPERVISOR_SUBMITS = Text(
        "提出できるのはスーパーバイザーだけです。", "Only a supervisor submits the municipality's figures."
    )
    ONLY_PREFECTURE_DECIDES = Text(
        "提出の承認・差戻しは県の担当者だけが行えます。", "Only the prefecture accepts or returns submissions."
    )
    FISCAL_YEAR_RANGE = Text(
        "年度は{first}〜{last}年度で入力してください。", "The fiscal year must be {first} to {last}."
    )
    FIGURES_NOT_OPEN = Text(
        "この年度の数値は提出済みまたは承認済みのため変更できません（差戻し後に修正できます）。",
        "This year's figures are submitted or accepted and cannot change (they can once returned).",
    )
    NOTHING_TO_SUBMIT = Text("この年度の体制整備の状況がまだ入力されていません。", "Nothing entered for this year yet.")
    NOT_SUBMITTED = Text("この提出は承認待ちではありません。", "This submission is not waiting for a decision.")
    NO_SUCH_SUBMISSION = Text("指定された提出が見つかりません。", "No such submission.")
    RETURN_NEEDS_COMMENT = Text(
        "差戻しには理由（1〜{max}文字）が必要です。", "A return needs its reason (1 to {max} characters)."
    )
    COUNT_NOT_NEGATIVE = Text("数は0以上で入力してください。", "Counts cannot be negative.")
    PERCENT_RANGE = Text("割合は0〜100で入力してください。", "A percent must be 0 to 100.")
    NO_SUCH_PROGRAMME_ACTIVITY = Text("指定された事業実績が見つかりません。", "No such programme activity.")
    PROGRAMME_KEY_REUSED = Text(
        "この冪等キーは、別の事業実績の登録ですでに使われています。",
        "This idempotency key was used for another programme activity.",
    )
    SURVEY_NEEDS_PERCENT = Text(
        "認知度調査には年齢層と割合を、それ以外には参加者数か企業数を入力してください。",
        "A survey takes an age group and a percent; other programmes take participants or companies.",
    )
    MAY_NOT_KEEP_INDICATORS = Text(
        "指標を追加・廃止できるのは県の担当者だけです。", "Only the prefecture adds or retires indicators."
    )
    INDICATOR_KEY_FORMAT = Text(
        "キーは英小文字で始まる2〜40文字の英小文字・数字・_で入力してください。",
        "The key is 2 to 40 lower-case letters, digits or _, beginning with a letter.",
    )
    INDICATOR_KEY_TAKEN = Text(
        "このキーの指標はすでにあります（廃止済みを含む）。",
        "An indicator with this key exists (retired ones included).",
    )
    INDICATOR_TARGET_DATED = Text("目標には目標日か目標年度が必要です。", "A target needs its date or its fiscal year.")
    INDICATOR_BASELINE_YEAR = Text(
        "基準値と基準年度は両方を入力してください。", "A baseline needs its fiscal year, and the year its value."
    )
    NO_SUCH_INDICATOR = Text("指定された指標が見つかりません。", "No such indicator.")
    INDICATOR_RETIRED = Text("この指標はすでに廃止されています。", "This indicator is retired already.")

    def in_(self, language: Language, **params: object) -> str:
        """The text in `language`, its placeholders filled from `params`."""
        text: Text = self.value
        return text.in_(language).format(**params)
