"""Tests for the tenant registry: every local government of Japan."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from kizuna.tenants.registry import (
    SUPPORTED_PREFECTURES,
    LocalGovernment,
    MunicipalityKind,
    _parse_csv,
    by_code,
    check_digit,
    for_prefecture,
    is_valid_code,
    load_registry,
    prefecture_tenant_code,
)

K = MunicipalityKind
CITY_KINDS = {K.DESIGNATED_CITY, K.CORE_CITY, K.SPECIAL_CITY, K.CITY}
HIRAGANA = re.compile(r"^[ぁ-ゖー]+$")


def _municipalities(prefecture_code: str) -> list[LocalGovernment]:
    return [g for g in for_prefecture(prefecture_code) if not g.is_prefecture]


def _kind_counts(prefecture_code: str) -> tuple[int, int, int]:
    kinds = Counter(g.kind for g in _municipalities(prefecture_code))
    cities = sum(kinds[k] for k in CITY_KINDS)
    return cities, kinds[K.TOWN], kinds[K.VILLAGE]


def test_registry_size_and_order() -> None:
    registry = load_registry()
    assert len(registry) == 47 + 1741
    codes = [g.code for g in registry]
    assert codes == sorted(codes)
    assert load_registry() is registry  # cached


def test_every_code_passes_check_digit() -> None:
    for g in load_registry():
        assert is_valid_code(g.code), g
        assert check_digit(g.code[:5]) == int(g.code[5]), g


def test_codes_unique() -> None:
    codes = [g.code for g in load_registry()]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("prefecture_code", SUPPORTED_PREFECTURES)
def test_names_unique_within_prefecture(prefecture_code: str) -> None:
    names = [g.name for g in for_prefecture(prefecture_code)]
    assert len(names) == len(set(names))


def test_kana_is_hiragana_only() -> None:
    for g in load_registry():
        assert HIRAGANA.fullmatch(g.name_kana), g


def test_national_counts() -> None:
    """総務省's counts: 1,741 市区町村 = 792 cities (20 designated), 743 towns, 183 villages
    and Tokyo's 23 special wards, in 47 prefectures, each listed with its own row."""
    kinds = Counter(g.kind for g in load_registry())
    assert sum(kinds[k] for k in CITY_KINDS) == 792
    assert (kinds[K.DESIGNATED_CITY], kinds[K.TOWN], kinds[K.VILLAGE]) == (20, 743, 183)
    assert kinds[K.PREFECTURE] == 47
    assert {g.code for g in load_registry() if g.kind is K.SPECIAL_WARD} == {
        f"131{ward:02d}{check_digit(f'131{ward:02d}')}" for ward in range(1, 24)
    }


def test_every_supported_prefecture_has_its_row_and_municipalities() -> None:
    prefectures = [g.prefecture_code for g in load_registry() if g.is_prefecture]
    assert tuple(prefectures) == SUPPORTED_PREFECTURES
    assert all(len(for_prefecture(p)) > 1 for p in SUPPORTED_PREFECTURES)


def test_codes_start_with_prefecture_code() -> None:
    for g in load_registry():
        assert g.prefecture_code in SUPPORTED_PREFECTURES, g
        assert g.code.startswith(g.prefecture_code), g


def test_saitama_counts() -> None:
    assert len(_municipalities("11")) == 63
    assert _kind_counts("11") == (40, 22, 1)
    villages = [g.name for g in _municipalities("11") if g.kind is K.VILLAGE]
    assert villages == ["東秩父村"]


def test_kochi_counts() -> None:
    assert len(_municipalities("39")) == 34
    assert _kind_counts("39") == (11, 17, 6)


def test_kind_matches_name_suffix() -> None:
    suffix: dict[MunicipalityKind, str | tuple[str, ...]] = {
        K.TOWN: "町",
        K.VILLAGE: "村",
        K.SPECIAL_WARD: "区",
        K.PREFECTURE: ("都", "道", "府", "県"),
    }
    for g in load_registry():
        assert g.name.endswith(suffix.get(g.kind, "市")), g


def _names_of_kind(prefecture_code: str, kind: MunicipalityKind) -> set[str]:
    return {g.name for g in for_prefecture(prefecture_code) if g.kind is kind}


def test_saitama_designations() -> None:
    assert _names_of_kind("11", K.DESIGNATED_CITY) == {"さいたま市"}
    assert _names_of_kind("11", K.CORE_CITY) == {"川越市", "川口市", "越谷市"}
    assert _names_of_kind("11", K.SPECIAL_CITY) == {
        "所沢市",
        "草加市",
        "春日部市",
        "熊谷市",
    }
    assert len(_names_of_kind("11", K.CITY)) == 32


def test_kochi_designations() -> None:
    assert _names_of_kind("39", K.CORE_CITY) == {"高知市"}
    assert _names_of_kind("39", K.DESIGNATED_CITY) == set()
    assert _names_of_kind("39", K.SPECIAL_CITY) == set()
    assert len(_names_of_kind("39", K.CITY)) == 10


@pytest.mark.parametrize(
    ("code", "name", "kana"),
    [
        ("111007", "さいたま市", "さいたまし"),
        ("112011", "川越市", "かわごえし"),
        ("112089", "所沢市", "ところざわし"),
        ("113018", "伊奈町", "いなまち"),
        ("113247", "三芳町", "みよしまち"),
        ("113697", "東秩父村", "ひがしちちぶむら"),
        ("392014", "高知市", "こうちし"),
        ("393410", "本山町", "もとやまちょう"),
        ("393649", "大川村", "おおかわむら"),
        ("011002", "札幌市", "さっぽろし"),
        ("131016", "千代田区", "ちよだく"),
        ("473260", "北谷町", "ちゃたんちょう"),  # the ministry's list writes ちやたんちよう
        ("473821", "与那国町", "よなぐにちょう"),
    ],
)
def test_by_code_known(code: str, name: str, kana: str) -> None:
    g = by_code(code)
    assert g is not None
    assert (g.name, g.name_kana) == (name, kana)


def test_by_code_unknown() -> None:
    assert by_code("111015") is None  # さいたま市西区: a designated city's wards are not tenants
    assert by_code("131008") is None  # 東京都特別区部: a statistical area, not a local government
    assert by_code("") is None


@pytest.mark.parametrize("prefecture_code", SUPPORTED_PREFECTURES)
def test_for_prefecture_order(prefecture_code: str) -> None:
    rows = for_prefecture(prefecture_code)
    assert rows[0].is_prefecture
    assert rows[0].code == prefecture_tenant_code(prefecture_code)
    assert not any(g.is_prefecture for g in rows[1:])
    codes = [g.code for g in rows[1:]]
    assert codes == sorted(codes)


def test_for_prefecture_unknown() -> None:
    assert for_prefecture("48") == ()


def test_prefecture_rows() -> None:
    saitama = by_code("110001")
    kochi = by_code("390003")
    assert saitama is not None
    assert kochi is not None
    assert (saitama.name, saitama.name_kana, saitama.kind) == (
        "埼玉県",
        "さいたまけん",
        K.PREFECTURE,
    )
    assert (kochi.name, kochi.name_kana, kochi.kind) == (
        "高知県",
        "こうちけん",
        K.PREFECTURE,
    )


def test_prefecture_tenant_code() -> None:
    assert prefecture_tenant_code("11") == "110001"
    assert prefecture_tenant_code("39") == "390003"
    assert prefecture_tenant_code("13") == "130001"  # 東京都
    with pytest.raises(ValueError, match="2-digit prefecture code"):
        prefecture_tenant_code("1")


@pytest.mark.parametrize(
    ("five", "digit"),
    [
        ("11000", 1),  # 埼玉県
        ("39000", 3),  # 高知県
        ("11100", 7),  # さいたま市
        ("11201", 1),  # 川越市
        ("11208", 9),  # 所沢市
        ("39201", 4),  # 高知市
        ("13101", 6),  # 千代田区
        ("01100", 2),  # 札幌市
        ("00001", 9),  # S = 2 < 11 -> 11 - 2
    ],
)
def test_check_digit_known(five: str, digit: int) -> None:
    assert check_digit(five) == digit


@pytest.mark.parametrize("bad", ["1110", "111000", "abcde", "１１１００"])
def test_check_digit_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="5 ASCII digits"):
        check_digit(bad)


@pytest.mark.parametrize("code", ["111007", "110001", "390003", "392014"])
def test_is_valid_code_accepts(code: str) -> None:
    assert is_valid_code(code)


@pytest.mark.parametrize("code", ["111008", "11100", "1110070", "abcdef", "１１１００７", "", " 111007"])
def test_is_valid_code_rejects(code: str) -> None:
    assert not is_valid_code(code)


def test_local_government_is_frozen() -> None:
    g = load_registry()[0]
    with pytest.raises(AttributeError):
        g.name = "x"  # type: ignore[misc]


_HEADER = "code,name,name_kana,kind,prefecture_code\n"


@pytest.mark.parametrize(
    "row",
    [
        "111008,さいたま市,さいたまし,designated_city,11",  # bad check digit
        "１１１００７,さいたま市,さいたまし,designated_city,11",  # full-width
        "111007,さいたま市,さいたまし,metropolis,11",  # unknown kind
        "111007,さいたま市,さいたまし,designated_city,39",  # wrong prefecture
    ],
)
def test_parse_rejects_invalid_rows(row: str) -> None:
    with pytest.raises(ValueError, match="line 2"):
        _parse_csv(_HEADER + row + "\n")


def test_parse_sorts_by_code() -> None:
    text = _HEADER + "112011,川越市,かわごえし,core_city,11\n110001,埼玉県,さいたまけん,prefecture,11\n"
    assert [g.code for g in _parse_csv(text)] == ["110001", "112011"]
