"""The domain's closed vocabularies.

Each enum has English identifiers (stored in the database as PostgreSQL enum types and
exposed in GraphQL) and a Japanese label, the wording the seed documents use. The
database, the GraphQL schema and the demo data all import them from here, so a value
cannot exist in one place and not another.
"""

from __future__ import annotations

import enum


class LabelledEnum(enum.StrEnum):
    """A StrEnum whose members carry a Japanese label: ``Member = ("value", "ラベル")``."""

    label: str

    # `label` has a default only for the type checker: a lookup such as CaseStage("intake")
    # goes through Enum's own __call__, never through this constructor.
    def __new__(cls, value: str, label: str = "") -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class AppRole(LabelledEnum):
    """What a signed-in user may do. Each has a NOLOGIN database role ``kizuna_<value>``."""

    CASEWORKER = ("caseworker", "ケースワーカー")
    SUPERVISOR = ("supervisor", "スーパーバイザー（査察指導員）")
    COORDINATOR = ("coordinator", "ヤングケアラー・コーディネーター")
    SCHOOL_STAFF = ("school_staff", "学校教職員")
    SCHOOL_SOCIAL_WORKER = ("school_social_worker", "スクールソーシャルワーカー")
    WELFARE_WORKER = ("welfare_worker", "福祉関係機関職員")
    MUNICIPAL_SYSTEM = ("municipal_system", "市町村システム連携")
    PREFECTURE_ANALYST = ("prefecture_analyst", "県担当者（集計閲覧）")
    PLATFORM_ADMIN = ("platform_admin", "プラットフォーム管理者")

    @property
    def database_role(self) -> str:
        return f"kizuna_{self.value}"


class OrganisationKind(LabelledEnum):
    ELEMENTARY_SCHOOL = ("elementary_school", "小学校")
    JUNIOR_HIGH_SCHOOL = ("junior_high_school", "中学校")
    HIGH_SCHOOL = ("high_school", "高等学校")
    UNIVERSITY = ("university", "大学")
    COMMUNITY_GENERAL_SUPPORT_CENTER = ("community_general_support_center", "地域包括支援センター")
    SOCIAL_WELFARE_COUNCIL = ("social_welfare_council", "社会福祉協議会")
    DISABILITY_CONSULTATION = ("disability_consultation", "障害者相談支援事業所")
    HEALTH_WELFARE_CENTER = ("health_welfare_center", "地区保健福祉センター")
    CARE_MANAGEMENT_OFFICE = ("care_management_office", "居宅介護支援事業所")
    HOME_HELP_PROVIDER = ("home_help_provider", "訪問介護・ヘルパー事業所")
    MEDICAL_INSTITUTION = ("medical_institution", "医療機関")
    NPO = ("npo", "NPO・民間支援団体")
    MUNICIPAL_DEPARTMENT = ("municipal_department", "市町村担当課")
    PREFECTURE_DEPARTMENT = ("prefecture_department", "県担当課")


class CarerCategory(LabelledEnum):
    YOUNG_CARER = ("young_carer", "ヤングケアラー（18歳未満）")
    YOUNG_ADULT_CARER = ("young_adult_carer", "若者ケアラー（18〜39歳）")
    BUSINESS_CARER = ("business_carer", "ビジネスケアラー")
    FAMILY_CARER = ("family_carer", "家族介護者")


class CaseStage(LabelledEnum):
    """The case flow of seed 002: intake → … → support ⇄ monitoring → closed."""

    INTAKE = ("intake", "相談受理")
    SHARING = ("sharing", "情報共有")
    GATHERING = ("gathering", "情報収集")
    CONFERENCE = ("conference", "ケース検討会議")
    MULTI_AGENCY_MEETING = ("multi_agency_meeting", "関係機関を含めた会議")
    SUPPORT = ("support", "支援")
    MONITORING = ("monitoring", "進行管理（モニタリング）")
    CLOSED = ("closed", "終結")


class RiskLevel(LabelledEnum):
    LOW = ("low", "低")
    MEDIUM = ("medium", "中")
    HIGH = ("high", "高")


class ReferralSource(LabelledEnum):
    SCHOOL = ("school", "学校")
    WELFARE_AGENCY = ("welfare_agency", "福祉関係機関")
    MEDICAL = ("medical", "医療機関")
    SELF = ("self", "本人")
    FAMILY = ("family", "家族")
    LINE_CONSULTATION = ("line_consultation", "LINE相談")
    OTHER = ("other", "その他")


class ReferralStatus(LabelledEnum):
    SUBMITTED = ("submitted", "受付待ち")
    ACCEPTED = ("accepted", "受理（ケース化）")
    DECLINED = ("declined", "不受理")
    MERGED = ("merged", "既存ケースに統合")
    REVOKED = ("revoked", "取り下げ")


class Urgency(LabelledEnum):
    ROUTINE = ("routine", "通常")
    SOON = ("soon", "早期対応")
    URGENT = ("urgent", "緊急")


class CaredForCondition(LabelledEnum):
    ELDERLY = ("elderly", "高齢（介護）")
    PHYSICAL_DISABILITY = ("physical_disability", "身体障害")
    INTELLECTUAL_DISABILITY = ("intellectual_disability", "知的障害")
    MENTAL_ILLNESS = ("mental_illness", "精神疾患")
    ILLNESS = ("illness", "病気")
    DEPENDENCE = ("dependence", "依存症")
    LIMITED_JAPANESE = ("limited_japanese", "日本語が不自由")
    YOUNG_SIBLINGS = ("young_siblings", "幼いきょうだい")


class CareTask(LabelledEnum):
    HOUSEWORK = ("housework", "家事")
    SIBLING_CARE = ("sibling_care", "きょうだいの世話")
    WATCHING_OVER = ("watching_over", "見守り")
    PERSONAL_CARE = ("personal_care", "身体介護")
    EMOTIONAL_SUPPORT = ("emotional_support", "感情面のサポート")
    INTERPRETING = ("interpreting", "通訳")
    MONEY_MANAGEMENT = ("money_management", "金銭管理")
    HOSPITAL_ACCOMPANIMENT = ("hospital_accompaniment", "通院の付き添い")


class CaseEventKind(LabelledEnum):
    OPENED = ("opened", "開始")
    STAGE_CHANGED = ("stage_changed", "段階変更")
    APPROVAL_REQUESTED = ("approval_requested", "承認依頼")
    APPROVED = ("approved", "承認")
    REJECTED = ("rejected", "差戻し")
    REOPENED = ("reopened", "再開")
    ASSIGNED = ("assigned", "担当変更")
    CATEGORY_CHANGED = ("category_changed", "区分変更（18歳到達）")
    YOTAIKYO_REGISTERED = ("yotaikyo_registered", "要対協登録")
    YOTAIKYO_DEREGISTERED = ("yotaikyo_deregistered", "要対協登録解除")


class ApprovalSubject(LabelledEnum):
    SUPPORT_PLAN = ("support_plan", "支援計画")
    CLOSURE = ("closure", "終結")


class ApprovalStatus(LabelledEnum):
    REQUESTED = ("requested", "承認依頼中")
    APPROVED = ("approved", "承認済み")
    REJECTED = ("rejected", "差戻し")


class MeetingKind(LabelledEnum):
    CASE_CONFERENCE = ("case_conference", "ケース検討会議")
    MULTI_AGENCY = ("multi_agency", "関係機関を含めた会議")
    MONITORING = ("monitoring", "進行管理会議")
    YOTAIKYO_PRACTITIONERS = ("yotaikyo_practitioners", "要保護児童対策地域協議会 実務者会議")


class ContactKind(LabelledEnum):
    INTERVIEW = ("interview", "面談")
    HOME_VISIT = ("home_visit", "家庭訪問")
    JOINT_VISIT = ("joint_visit", "同行訪問")
    PHONE = ("phone", "電話")


class DispatchStatus(LabelledEnum):
    APPLIED = ("applied", "申請")
    SURVEYED = ("surveyed", "同行調査済み")
    PLANNED = ("planned", "派遣計画作成")
    DECIDED = ("decided", "決定通知済み")
    IN_SERVICE = ("in_service", "派遣中")
    MONITORING = ("monitoring", "モニタリング")
    ENDED = ("ended", "終了")


class ConsentGiver(LabelledEnum):
    SELF = ("self", "本人")
    GUARDIAN = ("guardian", "保護者")


class ShareBasis(LabelledEnum):
    """Why an organisation taking part in a case may read its shared view (issue 15, item 6)."""

    CONSENT = ("consent", "本人・保護者の同意")
    YOTAIKYO = ("yotaikyo", "要保護児童対策地域協議会への登録")
    OVERRIDE = ("override", "同意によらない共有（スーパーバイザーの判断）")


class JusotekiStatus(LabelledEnum):
    """重層的支援体制整備事業, as the progress table of seed 001 counts it."""

    NONE = ("none", "未実施")
    TRANSITION_PREPARATION = ("transition_preparation", "移行準備事業実施")
    IMPLEMENTED = ("implemented", "実施")


class SubmissionStatus(LabelledEnum):
    """Municipality figures count in the prefecture's totals only once accepted."""

    DRAFT = ("draft", "作成中")
    SUBMITTED = ("submitted", "提出済み")
    ACCEPTED = ("accepted", "承認済み")
    RETURNED = ("returned", "差戻し")


class SubmittedFigures(LabelledEnum):
    """What a municipality submits for a fiscal year, each accepted or returned on its own."""

    MUNICIPALITY_STATUS = ("municipality_status", "体制整備の状況")
    PROGRAMMES = ("programmes", "事業の実績")


class IndicatorFigure(LabelledEnum):
    """The figure that measures an indicator: a closed list, so that the stats path can
    compute each one. Only accepted municipality figures count (`municipality_status`
    whose `submission` is accepted; `programme_activity` of a fiscal year whose
    `programme_submission` is accepted), with the prefecture's own programme rows, which it
    enters itself. A figure of municipalities counts the prefecture's municipalities in the
    latest fiscal year; a cumulative one sums from the indicator's
    `counted_from_fiscal_year`; a percent is the survey's answer in the latest fiscal year.
    """

    MUNICIPALITIES_WITH_WINDOW_OR_TEAM = (
        "municipalities_with_window_or_team",
        "ワンストップ型総合相談窓口か複合課題を調整するチームを設置した市町村数"
        "（municipality_status の one_stop_window または complex_case_team）",
    )
    MUNICIPALITIES_WITH_CARER_SALON = (
        "municipalities_with_carer_salon",
        "介護者サロンを設置した市町村数（municipality_status の carer_salons が1以上）",
    )
    CHILDRENS_PLACES = ("childrens_places", "こどもの居場所の数（municipality_status の childrens_places の合計）")
    MUNICIPALITIES_WITH_KODOMO_KATEI_CENTER = (
        "municipalities_with_kodomo_katei_center",
        "子ども家庭相談支援拠点（こども家庭センター）を整備した市町村数（municipality_status の kodomo_katei_center）",
    )
    BUSINESS_CARER_SEMINAR_COMPANIES = (
        "business_carer_seminar_companies",
        "ビジネスケアラーに関するセミナー等の受講企業数（business_carer_seminar の companies の累計）",
    )
    SUPPORT_STAFF_TRAINED = (
        "support_staff_trained",
        "ケアラー支援を担う人材の育成数（support_staff_training の participants の累計）",
    )
    EDUCATION_WELFARE_TRAINING_ATTENDEES = (
        "education_welfare_training_attendees",
        "教育・福祉合同研修の受講者数（education_welfare_training の participants の累計）",
    )
    COMMUNITY_CENTER_AWARENESS_PERCENT = (
        "community_center_awareness_percent",
        "地域包括支援センターの認知度、30〜50代（県の awareness_survey、30代・40代・50代の平均）",
    )
    YOUNG_CARER_AWARENESS_JUNIOR_HIGH_PERCENT = (
        "young_carer_awareness_junior_high_percent",
        "ヤングケアラーの認知度、中学2年生（県の awareness_survey、中学2年生）",
    )
    YOUNG_CARER_AWARENESS_HIGH_SCHOOL_PERCENT = (
        "young_carer_awareness_high_school_percent",
        "ヤングケアラーの認知度、高校2年生（県の awareness_survey、高校2年生）",
    )
    YOUNG_CARER_AWARENESS_RESIDENTS_PERCENT = (
        "young_carer_awareness_residents_percent",
        "ヤングケアラーの認知度、県民（県の awareness_survey、18歳以上）",
    )


class ProgrammeKind(LabelledEnum):
    SUPPORT_STAFF_TRAINING = ("support_staff_training", "支援者向け研修")
    EDUCATION_WELFARE_TRAINING = ("education_welfare_training", "教育・福祉合同研修")
    BUSINESS_CARER_SEMINAR = ("business_carer_seminar", "ビジネスケアラー支援セミナー（企業）")
    OUTREACH_LECTURE = ("outreach_lecture", "出前講座")
    ONLINE_SALON = ("online_salon", "オンラインサロン")
    LINE_CONSULTATION_REGISTRATION = ("line_consultation_registration", "LINE相談 登録者")
    AWARENESS_SURVEY = ("awareness_survey", "認知度調査")
