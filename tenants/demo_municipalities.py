"""What the demo knows of each municipality besides its registry entry: its population
(`data/population.csv`: the 2020 census, 令和2年国勢調査, approximately), its districts and
its organisations (schools, 地域包括支援センター, 社会福祉協議会 …), with ids that are uuid5 of
stable names, the same on every run and in `demo_users`."""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Mapping
from importlib.resources import files
from typing import Final

from kizuna.platform.provisioning import OrganisationRow
from kizuna.platform.vocabulary import OrganisationKind
from kizuna.tenants.demo_users import organisation_id
from kizuna.tenants.registry import LocalGovernment, for_prefecture

PREFECTURE_DEPARTMENTS: Final = {
    "11": ("埼玉県 福祉部 地域包括ケア課", "埼玉県 企画財政部 行政・デジタル改革課"),
    "39": ("高知県 子ども・福祉政策部 地域福祉政策課", "高知県 総務部 デジタル政策課"),
}
SAITAMA_WARDS: Final = ("西区", "北区", "大宮区", "見沼区", "中央区", "桜区", "浦和区", "南区", "緑区", "岩槻区")
DISTRICTS: Final = ("中央地区", "東部地区", "西部地区", "南部地区", "北部地区")
ORDINALS: Final = "一二三四五六七八"
NICKNAMES: Final = (
    "ひかり",
    "あおぞら",
    "つばさ",
    "なごみ",
    "さくら",
    "かがやき",
    "ひだまり",
    "みらい",
    "けやき",
    "こもれび",
)


def stem(name: str) -> str:
    """さいたま市 -> さいたま, 東秩父村 -> 東秩父."""
    return name[:-1] if name.endswith(("市", "町", "村")) else name


@functools.cache
def _populations() -> Mapping[str, int]:
    text = (files("kizuna.tenants") / "data" / "population.csv").read_text(encoding="utf-8")
    return {row["code"]: int(row["population"]) for row in csv.DictReader(io.StringIO(text, newline=""))}


UNCOUNTED_POPULATION: Final = 10_000
"""What the demo sizes a municipality as when `data/population.csv` has no figure for it (it
holds Saitama's and Kochi's): a small town, which the demo gives its fewest cases."""


def population(code: str) -> int:
    """Residents of a municipality (2020 census, approximately), or `UNCOUNTED_POPULATION`
    outside Saitama and Kochi: every municipality of Japan can be given demo data."""
    return _populations().get(code, UNCOUNTED_POPULATION)


def districts(government: LocalGovernment) -> tuple[str, ...]:
    if government.code == "111007":  # the designated city's ten wards
        return SAITAMA_WARDS
    people = population(government.code)
    return DISTRICTS[: 5 if people >= 300_000 else 3 if people >= 100_000 else 2 if people >= 40_000 else 1]


def _count(people: int, per: int, most: int) -> int:
    return max(1, min(most, math.ceil(people / per)))


@functools.cache
def organisations(government: LocalGovernment) -> tuple[OrganisationRow, ...]:
    """A tenant's organisations, always the same (ids and names) for the same government."""
    if government.is_prefecture:
        care, digital = PREFECTURE_DEPARTMENTS.get(government.prefecture_code, (f"{government.name} 福祉部",) * 2)
        kind = OrganisationKind.PREFECTURE_DEPARTMENT
        return (
            OrganisationRow(organisation_id(government.code, "care"), kind, care, government.code),
            OrganisationRow(organisation_id(government.code, "digital"), kind, digital, government.code),
        )
    return tuple(
        OrganisationRow(organisation_id(government.code, key), kind, name, government.code)
        for key, kind, name in _municipal_organisations(government)
    )


def _municipal_organisations(government: LocalGovernment) -> list[tuple[str, OrganisationKind, str]]:
    name, short, people, k = government.name, stem(government.name), population(government.code), OrganisationKind
    prefecture = prefecture_name(government.prefecture_code)
    areas = districts(government)
    nick = [NICKNAMES[(int(government.code) + 3 * i) % len(NICKNAMES)] for i in range(4)]
    rows = [
        ("department", k.MUNICIPAL_DEPARTMENT, f"{name} こども家庭課"),
        ("education", k.MUNICIPAL_DEPARTMENT, f"{name}教育委員会 学校教育課"),
        ("information", k.MUNICIPAL_DEPARTMENT, f"{name} 情報政策課"),
        ("council", k.SOCIAL_WELFARE_COUNCIL, f"{name}社会福祉協議会"),
    ]
    schools = ((k.ELEMENTARY_SCHOOL, 60_000, 8, "小学校"), (k.JUNIOR_HIGH_SCHOOL, 120_000, 5, "中学校"))
    for kind, per, most, suffix in schools:
        rows += [
            (f"{kind.value}/{i}", kind, f"{name}立{short}第{ORDINALS[i]}{suffix}")
            for i in range(_count(people, per, most))
        ]
    rows += [
        (f"high_school/{i}", k.HIGH_SCHOOL, f"{prefecture}立{short}{('', '東', '西')[i]}高等学校")
        for i in range(_count(people, 250_000, 3))
    ]
    for i, area in enumerate(areas):
        label = name if len(areas) == 1 else f"{name}{area}"
        rows.append((f"community/{i}", k.COMMUNITY_GENERAL_SUPPORT_CENTER, f"{label}地域包括支援センター"))
        rows.append((f"health/{i}", k.HEALTH_WELFARE_CENTER, f"{label}保健福祉センター"))
    rows.append(("disability/0", k.DISABILITY_CONSULTATION, f"{name}基幹相談支援センター"))
    rows += [
        (f"care/{i}", k.CARE_MANAGEMENT_OFFICE, f"居宅介護支援事業所{nick[i]}")
        for i in range(_count(people, 150_000, 3))
    ]
    rows += [
        ("helpers/0", k.HOME_HELP_PROVIDER, f"ヘルパーステーション{nick[3]}"),
        ("medical/0", k.MEDICAL_INSTITUTION, f"{short}中央病院"),
        ("npo/0", k.NPO, f"NPO法人 こどもの居場所{nick[1]}"),
    ]
    if people >= 100_000:
        rows += [
            ("disability/1", k.DISABILITY_CONSULTATION, f"相談支援事業所{nick[2]}"),
            ("medical/1", k.MEDICAL_INSTITUTION, f"{nick[0]}メンタルクリニック"),
            ("helpers/1", k.HOME_HELP_PROVIDER, f"訪問介護事業所{nick[0]}"),
        ]
    return rows


def prefecture_name(prefecture_code: str) -> str:
    return for_prefecture(prefecture_code)[0].name
