"""People, households and care relationships through GraphQL and in SQL: search before
create (the same name written another way is found), search by kanji and kana, care
relationships from both sides in one statement per page, who may read and write (the
database refuses the others too), and another tenant's ids, which fail as unknown ones
and change nothing.

Each test makes its own people; the `fresh` fixture removes every household, person and
care relationship the test added, and `tidy` the audit events.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from kizuna.platform.caller import Caller
from kizuna.platform.database import Database
from kizuna.platform.runtime import DatabaseUrls
from kizuna.platform.scope import open_scope
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.execution import Executor
from kizuna.schema.people import service
from kizuna.schema.people.names import name_key
from kizuna.schema.relay import decode_global_id, encode_global_id
from kizuna.schema.root import build_schema
from kizuna.tests.audit_events import audited
from kizuna.tests.conftest import Janitor, rows_added_are_removed

if TYPE_CHECKING:
    from kizuna.tests.conftest import Tidy

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SEEDED = (SAITAMA_CITY, KAWAGOE)
PERSON = """id familyName givenName familyNameKana givenNameKana birthDate schoolGrade
  household { id name } school { id kind }"""
ERRORS = "userErrors { field message code }"
CREATE = f"""mutation($input: CreatePersonInput!) {{ createPerson(input: $input) {{
  person {{ {PERSON} }} duplicates {{ id familyName }} {ERRORS} }} }}"""
CARE = "careRelationship { id carer { id } caredFor { id } relationship conditions tasks hoursPerWeek }"
ADD = f"mutation($input: AddCareRelationshipInput!) {{ addCareRelationship(input: $input) {{ {CARE} {ERRORS} }} }}"
REMOVE = f"""mutation($input: RemoveCareRelationshipInput!) {{ removeCareRelationship(input: $input) {{
  {CARE} {ERRORS} }} }}"""
SEARCH = """query($search: String, $first: Int) { people(search: $search, first: $first) {
  totalCount edges { node { id familyName careRelationships { id carer { id } caredFor { id } } } } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
TAKASAKI = {
    "familyName": "髙﨑",
    "givenName": "一郎",
    "familyNameKana": "タカサキ",
    "givenNameKana": "イチロウ",
    "birthDate": "2011-02-03",
    "householdName": "髙﨑家",
}
PEOPLE_TABLES = ("care_relationship", "person", "household")  # children first
PEOPLE_COUNT = "SELECT count(*) FROM kizuna.person WHERE municipality_code = $1"
INSERT_PERSON = """
INSERT INTO kizuna.person (municipality_code, id, household_id, family_name, given_name, family_name_kana,
    given_name_kana, birth_date, name_key, kana_key)
VALUES ($1, $2, $3, '山田', '太郎', 'ヤマダ', 'タロウ', '2010-01-01', '山田太郎', 'ヤマダタロウ')
"""


@pytest.fixture
async def fresh(admin_conn: asyncpg.Connection, tidy: Tidy, janitor: Janitor) -> AsyncIterator[None]:
    """Afterwards, as the superuser: every care relationship, person and household the test added."""
    async with rows_added_are_removed(admin_conn, janitor, PEOPLE_TABLES):
        yield


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


def only_error(result: dict[str, Any]) -> dict[str, Any]:
    """A payload's one user error."""
    (error,) = result["userErrors"]
    found: dict[str, Any] = error
    return found


def refused(body: dict[str, Any], field: str) -> dict[str, Any]:
    return only_error(payload(body, field))


@pytest.fixture
def create(graphql: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Create 髙﨑 一郎 (with `changes`) in さいたま市 as a caseworker; the payload."""

    def run(role: AppRole = AppRole.CASEWORKER, municipality: str = SAITAMA_CITY, **changes: Any) -> dict[str, Any]:
        return payload(graphql(CREATE, role, municipality, {"input": TAKASAKI | changes}), "createPerson")

    return run


def created(result: dict[str, Any]) -> dict[str, Any]:
    assert result["userErrors"] == [], result
    person: dict[str, Any] = result["person"]
    return person


def key(global_id: str) -> uuid.UUID:
    return decode_global_id(global_id)[1]


async def a_school(admin_conn: asyncpg.Connection, *, school: bool = True) -> str:
    found = await admin_conn.fetchval(
        "SELECT id FROM kizuna.organisation WHERE municipality_code = $1"
        " AND (kind IN ('elementary_school', 'junior_high_school', 'high_school', 'university')) = $2"
        " ORDER BY id LIMIT 1",
        SAITAMA_CITY,
        school,
    )
    return encode_global_id("Organization", found)


class TestNames:
    @pytest.mark.parametrize(
        ("written", "same_as"),
        [
            (("髙﨑", "一郎"), ("高崎", "一郎")),  # variants common in names
            (("渡邊", "國男"), ("渡辺", "国男")),  # old forms of the 常用漢字表
            (("山田 ", "　太郎"), ("山田太", "郎")),  # spaces, and where the family name ends
            (("ﾔﾏﾀﾞ", "ﾀﾛｳ"), ("やまだ", "たろう")),  # half-width katakana, hiragana
            (("ＳＭＩＴＨ", "Ｊｏｈｎ"), ("smith", "john")),  # full-width and case
        ],
    )
    def test_the_same_name_written_another_way_has_the_same_key(
        self, written: tuple[str, str], same_as: tuple[str, str]
    ) -> None:
        assert name_key(*written) == name_key(*same_as)

    @pytest.mark.parametrize(("one", "other"), [("斉藤", "斎藤"), ("ヨウコ", "ョウコ"), ("オオノ", "オーノ")])
    def test_distinct_characters_stay_distinct(self, one: str, other: str) -> None:
        assert name_key(one) != name_key(other)


@pytest.mark.usefixtures("fresh")
class TestCreatePerson:
    async def test_a_caseworker_creates_a_person_in_a_new_household(
        self, create: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        person = created(create())
        assert (person["familyName"], person["givenNameKana"], person["birthDate"]) == (
            "髙﨑",
            "イチロウ",
            "2011-02-03",
        )
        assert person["household"]["name"] == "髙﨑家"
        stored = await admin_conn.fetchrow(
            "SELECT name_key, kana_key FROM kizuna.person WHERE municipality_code = $1 AND id = $2",
            SAITAMA_CITY,
            key(person["id"]),
        )
        assert (stored["name_key"], stored["kana_key"]) == ("高崎一郎", "タカサキイチロウ")
        assert await audited(admin_conn, "person.create", key(person["id"])) == 1
        assert await audited(admin_conn, "household.create", key(person["household"]["id"])) == 1

    @pytest.mark.parametrize(
        "written",
        [
            {"familyName": "高崎"},  # 髙/高 and 﨑/崎
            {"familyName": "髙 﨑", "givenName": "一　郎"},  # spacing
            {"familyName": "鷹先", "familyNameKana": "たかさき", "givenNameKana": "いちろう"},  # hiragana reading
            {"familyName": "鷹先", "familyNameKana": "ﾀｶｻｷ", "givenNameKana": "ｲﾁﾛｳ"},  # half-width reading
        ],
    )
    async def test_the_same_person_written_another_way_is_found_and_not_created(
        self, create: Callable[..., Any], admin_conn: asyncpg.Connection, written: dict[str, str]
    ) -> None:
        first = created(create())
        before = await admin_conn.fetchval(PEOPLE_COUNT, SAITAMA_CITY)
        again = create(**written)
        assert again["person"] is None
        assert [d["id"] for d in again["duplicates"]] == [first["id"]]
        (error,) = again["userErrors"]
        assert (error["field"], error["code"]) == ("confirmedNotDuplicate", "CONFLICT")
        assert await admin_conn.fetchval(PEOPLE_COUNT, SAITAMA_CITY) == before

    async def test_another_birth_date_is_another_person(self, create: Callable[..., Any]) -> None:
        created(create())
        assert created(create(birthDate="2011-02-04"))["familyName"] == "髙﨑"

    async def test_confirmed_not_a_duplicate_creates_and_both_are_candidates_next_time(
        self, create: Callable[..., Any]
    ) -> None:
        first = created(create())
        second = created(create(confirmedNotDuplicate=True))
        assert second["id"] != first["id"]
        third = create(familyName="高崎")
        assert {d["id"] for d in third["duplicates"]} == {first["id"], second["id"]}

    async def test_a_retry_with_the_same_key_creates_once(
        self, create: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        retry_key = f"person-{uuid.uuid4()}"
        first = created(create(idempotencyKey=retry_key))
        again = created(create(idempotencyKey=retry_key))  # not reported as its own duplicate
        assert again["id"] == first["id"]
        assert await audited(admin_conn, "person.create", key(first["id"])) == 1
        error = only_error(create(idempotencyKey=retry_key, givenName="二郎"))
        assert (error["field"], error["code"]) == ("idempotencyKey", "CONFLICT")

    async def test_a_child_joins_an_existing_household_with_school_and_grade(
        self, create: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        parent = created(create())
        school = await a_school(admin_conn)
        child = created(
            create(
                givenName="花子",
                givenNameKana="はなこ",
                birthDate="2015-06-01",
                householdName=None,
                householdId=parent["household"]["id"],
                schoolId=school,
                schoolGrade=4,
            )
        )
        assert child["household"] == parent["household"]
        assert (child["school"]["id"], child["schoolGrade"], child["givenNameKana"]) == (school, 4, "はなこ")

    @pytest.mark.parametrize(
        ("change", "field", "code"),
        [
            ({"familyName": " "}, "familyName", "BAD_USER_INPUT"),
            ({"givenName": "あ" * 101}, "givenName", "BAD_USER_INPUT"),
            ({"familyNameKana": "高崎"}, "familyNameKana", "BAD_USER_INPUT"),
            ({"birthDate": "2999-01-01"}, "birthDate", "BAD_USER_INPUT"),
            ({"birthDate": "1899-12-31"}, "birthDate", "BAD_USER_INPUT"),
            ({"householdName": None}, None, "BAD_USER_INPUT"),
            ({"householdId": "not-an-id"}, "householdId", "BAD_USER_INPUT"),
            ({"schoolGrade": 3}, "schoolGrade", "BAD_USER_INPUT"),
            ({"idempotencyKey": ""}, "idempotencyKey", "BAD_USER_INPUT"),
        ],
    )
    async def test_bad_input_is_named_and_writes_nothing(
        self,
        create: Callable[..., Any],
        admin_conn: asyncpg.Connection,
        change: dict[str, Any],
        field: str | None,
        code: str,
    ) -> None:
        before = await admin_conn.fetchval(PEOPLE_COUNT, SAITAMA_CITY)
        error = only_error(create(**change))
        assert (error["field"], error["code"]) == (field, code)
        assert await admin_conn.fetchval(PEOPLE_COUNT, SAITAMA_CITY) == before

    async def test_a_school_must_be_a_school(self, create: Callable[..., Any], admin_conn: asyncpg.Connection) -> None:
        result = create(schoolId=await a_school(admin_conn, school=False), schoolGrade=2)
        error = only_error(result)
        assert (error["field"], error["code"]) == ("schoolId", "BAD_USER_INPUT")

    def test_messages_follow_the_caller_s_language(self, create: Callable[..., Any]) -> None:
        error = only_error(create(birthDate="2999-01-01"))
        assert "生年月日" in error["message"]

    @pytest.mark.parametrize(
        "role", [AppRole.SCHOOL_STAFF, AppRole.SCHOOL_SOCIAL_WORKER, AppRole.WELFARE_WORKER, AppRole.MUNICIPAL_SYSTEM]
    )
    def test_only_municipal_staff_create(self, create: Callable[..., Any], role: AppRole) -> None:
        error = only_error(create(role))
        assert (error["field"], error["code"]) == (None, "FORBIDDEN")


@pytest.mark.usefixtures("fresh")
class TestSearch:
    async def test_by_kanji_or_kana_written_any_way_newest_first(
        self, create: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        older = created(create(confirmedNotDuplicate=True))
        newer = created(create(confirmedNotDuplicate=True, givenName="一美", givenNameKana="カズミ"))
        for search in ("高崎", "髙 﨑", "たかさき", "ﾀｶｻｷ", "タカ　サキ "):
            body = graphql(SEARCH, AppRole.CASEWORKER, SAITAMA_CITY, {"search": search})
            found = [e["node"]["id"] for e in payload(body, "people")["edges"]]
            assert found[:2] == [newer["id"], older["id"]], search
        only_one = graphql(SEARCH, AppRole.CASEWORKER, SAITAMA_CITY, {"search": "高崎一美"})
        assert [e["node"]["id"] for e in payload(only_one, "people")["edges"]] == [newer["id"]]
        assert payload(only_one, "people")["totalCount"] == 1
        # every search above read both people: one read event per person per request
        assert await audited(admin_conn, "person.read", key(older["id"])) == 5
        assert await audited(admin_conn, "person.read", key(newer["id"])) == 6

    def test_a_prefix_of_the_given_name_alone_finds_nobody(
        self, create: Callable[..., Any], graphql: Callable[..., Any]
    ) -> None:
        created(create(givenName="蓮之介", givenNameKana="レンノスケ"))
        body = graphql(SEARCH, AppRole.CASEWORKER, SAITAMA_CITY, {"search": "蓮之介"})
        assert payload(body, "people")["edges"] == []

    def test_another_tenant_finds_nobody(self, create: Callable[..., Any], graphql: Callable[..., Any]) -> None:
        created(create(givenName="一琉", givenNameKana="イチル"))
        body = graphql(SEARCH, AppRole.CASEWORKER, KAWAGOE, {"search": "髙﨑一琉"})
        assert payload(body, "people")["edges"] == []

    def test_the_municipal_system_reads(self, graphql: Callable[..., Any]) -> None:
        body = graphql(SEARCH, AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY, {"first": 3})
        assert len(payload(body, "people")["edges"]) == 3

    @pytest.mark.parametrize(
        ("role", "municipality"),
        [
            (AppRole.SCHOOL_STAFF, SAITAMA_CITY),
            (AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY),
            (AppRole.WELFARE_WORKER, SAITAMA_CITY),
            (AppRole.PREFECTURE_ANALYST, "110001"),
            (AppRole.PLATFORM_ADMIN, "110001"),
        ],
    )
    async def test_schools_agencies_and_the_prefecture_see_no_person(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection, role: AppRole, municipality: str
    ) -> None:
        body = graphql(SEARCH, role, municipality, {"first": 3})
        assert body["data"]["people"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        person = await admin_conn.fetchval("SELECT id FROM kizuna.person WHERE municipality_code = $1", SAITAMA_CITY)
        node = graphql(NODE, role, municipality, {"id": encode_global_id("Person", person)})
        assert node["data"]["node"] is None


def test_a_case_s_person_answers_the_same_fields(graphql: Callable[..., Any]) -> None:
    """A case's person came with the case's row (names only): the other fields are read
    when asked for, and equal what node(id:) answers."""
    fields = "id familyNameKana birthDate household { id } school { id } careRelationships { id }"
    cases = graphql(
        f"{{ cases(first: 3) {{ edges {{ node {{ person {{ {fields} }} }} }} }} }}", AppRole.CASEWORKER, SAITAMA_CITY
    )
    for edge in payload(cases, "cases")["edges"]:
        person = edge["node"]["person"]
        node = graphql(
            f"query($id: ID!) {{ node(id: $id) {{ ... on Person {{ {fields} }} }} }}",
            AppRole.CASEWORKER,
            SAITAMA_CITY,
            {"id": person["id"]},
        )
        assert payload(node, "node") == person


@pytest.mark.usefixtures("fresh")
class TestCareRelationships:
    async def test_a_carer_and_the_cared_for_see_it_from_both_sides_until_removed(
        self, create: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        carer = created(create())
        mother = created(
            create(
                givenName="幸子",
                givenNameKana="サチコ",
                birthDate="1975-09-09",
                householdName=None,
                householdId=carer["household"]["id"],
            )
        )
        added = payload(
            graphql(
                ADD,
                AppRole.CASEWORKER,
                SAITAMA_CITY,
                {
                    "input": {
                        "carerId": carer["id"],
                        "caredForId": mother["id"],
                        "relationship": "母",
                        "conditions": ["MENTAL_ILLNESS", "ILLNESS", "ILLNESS"],
                        "tasks": ["HOUSEWORK", "EMOTIONAL_SUPPORT"],
                        "hoursPerWeek": 14.5,
                    }
                },
            ),
            "addCareRelationship",
        )
        assert added["userErrors"] == []
        care = added["careRelationship"]
        assert (care["carer"]["id"], care["caredFor"]["id"], care["hoursPerWeek"]) == (carer["id"], mother["id"], 14.5)
        assert care["conditions"] == ["MENTAL_ILLNESS", "ILLNESS"]  # each once, in the vocabulary's order
        body = graphql(SEARCH, AppRole.CASEWORKER, SAITAMA_CITY, {"search": "髙﨑"})
        sides = {e["node"]["id"]: e["node"]["careRelationships"] for e in payload(body, "people")["edges"]}
        assert [c["id"] for c in sides[carer["id"]]] == [c["id"] for c in sides[mother["id"]]] == [care["id"]]
        assert await audited(admin_conn, "care_relationship.add", key(care["id"])) == 1

        removed = payload(
            graphql(REMOVE, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": care["id"]}}), "removeCareRelationship"
        )
        assert removed["careRelationship"]["id"] == care["id"]
        assert await audited(admin_conn, "care_relationship.remove", key(care["id"])) == 1
        again = graphql(REMOVE, AppRole.CASEWORKER, SAITAMA_CITY, {"input": {"id": care["id"]}})
        assert refused(again, "removeCareRelationship")["code"] == "NOT_FOUND"

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            ({"caredForId": "CARER"}, ("caredForId", "BAD_USER_INPUT")),
            ({"hoursPerWeek": 168.5}, ("hoursPerWeek", "BAD_USER_INPUT")),
            ({"hoursPerWeek": -1}, ("hoursPerWeek", "BAD_USER_INPUT")),
            ({"hoursPerWeek": 2.25}, ("hoursPerWeek", "BAD_USER_INPUT")),
            ({"relationship": ""}, ("relationship", "BAD_USER_INPUT")),
            ({"caredForId": "SAME_PAIR"}, ("caredForId", "CONFLICT")),
        ],
    )
    async def test_bad_input_is_named_and_writes_nothing(
        self,
        create: Callable[..., Any],
        graphql: Callable[..., Any],
        admin_conn: asyncpg.Connection,
        change: dict[str, Any],
        expected: tuple[str, str],
    ) -> None:
        carer = created(create())
        other = created(create(birthDate="1970-01-01"))
        good = {"carerId": carer["id"], "caredForId": other["id"], "relationship": "父", "hoursPerWeek": 3}
        if change.get("caredForId") == "SAME_PAIR":
            assert payload(graphql(ADD, AppRole.CASEWORKER, SAITAMA_CITY, {"input": good}), "addCareRelationship")[
                "careRelationship"
            ]
            change = {}
        elif change.get("caredForId") == "CARER":
            change = {"caredForId": carer["id"]}
        count = "SELECT count(*) FROM kizuna.care_relationship WHERE municipality_code = $1"
        before = await admin_conn.fetchval(count, SAITAMA_CITY)
        error = refused(graphql(ADD, AppRole.CASEWORKER, SAITAMA_CITY, {"input": good | change}), "addCareRelationship")
        assert (error["field"], error["code"]) == expected
        assert await admin_conn.fetchval(count, SAITAMA_CITY) == before

    async def test_a_retry_with_the_same_key_adds_once(
        self, create: Callable[..., Any], graphql: Callable[..., Any]
    ) -> None:
        carer = created(create())
        other = created(create(birthDate="1970-01-01"))
        attempt = {
            "carerId": carer["id"],
            "caredForId": other["id"],
            "relationship": "父",
            "hoursPerWeek": 3,
            "idempotencyKey": f"care-{uuid.uuid4()}",
        }
        first = payload(graphql(ADD, AppRole.CASEWORKER, SAITAMA_CITY, {"input": attempt}), "addCareRelationship")
        again = payload(graphql(ADD, AppRole.CASEWORKER, SAITAMA_CITY, {"input": attempt}), "addCareRelationship")
        assert again["careRelationship"]["id"] == first["careRelationship"]["id"]

    @pytest.mark.parametrize("role", [AppRole.SCHOOL_SOCIAL_WORKER, AppRole.WELFARE_WORKER, AppRole.MUNICIPAL_SYSTEM])
    async def test_only_municipal_staff_record_care(
        self, graphql: Callable[..., Any], admin_conn: asyncpg.Connection, role: AppRole
    ) -> None:
        two = await admin_conn.fetch(
            "SELECT id FROM kizuna.person WHERE municipality_code = $1 ORDER BY id LIMIT 2", SAITAMA_CITY
        )
        attempt = {
            "carerId": encode_global_id("Person", two[0]["id"]),
            "caredForId": encode_global_id("Person", two[1]["id"]),
            "relationship": "祖母",
            "hoursPerWeek": 1,
        }
        error = refused(graphql(ADD, role, SAITAMA_CITY, {"input": attempt}), "addCareRelationship")
        assert error["code"] == "FORBIDDEN"


@pytest.mark.usefixtures("fresh")
class TestAnotherTenantsIds:
    """Every mutation, as さいたま市's staff, with 川越市's ids: NOT_FOUND, as for an unknown
    id, and 川越市's households, people and care relationships unchanged."""

    FINGERPRINT = """
    SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
        SELECT h.*::text AS t FROM kizuna.household h WHERE municipality_code = $1
        UNION ALL SELECT p.*::text FROM kizuna.person p WHERE municipality_code = $1
        UNION ALL SELECT r.*::text FROM kizuna.care_relationship r WHERE municipality_code = $1) rows
    """

    async def test_every_mutation_fails_like_an_unknown_id_and_changes_nothing(
        self, create: Callable[..., Any], graphql: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        theirs = await admin_conn.fetchrow(
            "SELECT id, carer_person_id, cared_for_person_id FROM kizuna.care_relationship"
            " WHERE municipality_code = $1 LIMIT 1",
            KAWAGOE,
        )
        their_household = await admin_conn.fetchval(
            "SELECT household_id FROM kizuna.person WHERE municipality_code = $1 AND id = $2",
            KAWAGOE,
            theirs["carer_person_id"],
        )
        ours = created(create())
        before = await admin_conn.fetchval(self.FINGERPRINT, KAWAGOE)

        def attempt(document: str, field: str, variables: dict[str, Any]) -> dict[str, Any]:
            return refused(graphql(document, AppRole.CASEWORKER, SAITAMA_CITY, {"input": variables}), field)

        pairs = [
            (CREATE, "createPerson", "householdId", "Household", their_household, TAKASAKI | {"householdName": None}),
            (REMOVE, "removeCareRelationship", "id", "CareRelationship", theirs["id"], {}),
            (
                ADD,
                "addCareRelationship",
                "carerId",
                "Person",
                theirs["carer_person_id"],
                {"caredForId": ours["id"], "relationship": "母", "hoursPerWeek": 1},
            ),
            (
                ADD,
                "addCareRelationship",
                "caredForId",
                "Person",
                theirs["cared_for_person_id"],
                {"carerId": ours["id"], "relationship": "母", "hoursPerWeek": 1},
            ),
        ]
        for document, field, input_field, type_name, their_id, rest in pairs:
            crossed = attempt(document, field, rest | {input_field: encode_global_id(type_name, their_id)})
            missing = attempt(document, field, rest | {input_field: encode_global_id(type_name, uuid.uuid4())})
            assert crossed == missing, field
            assert (crossed["field"], crossed["code"]) == (input_field, "NOT_FOUND"), field
        assert await admin_conn.fetchval(self.FINGERPRINT, KAWAGOE) == before


class TestTheDatabaseRefuses:
    """In SQL, as the app role of each request: a resolver that forgot its check would
    still be refused."""

    @pytest.mark.parametrize("table", ["person", "household", "care_relationship"])
    @pytest.mark.parametrize(
        ("role", "home", "act_in"),
        [
            (AppRole.SCHOOL_STAFF, SAITAMA_CITY, None),
            (AppRole.SCHOOL_SOCIAL_WORKER, SAITAMA_CITY, None),
            (AppRole.WELFARE_WORKER, SAITAMA_CITY, None),
            (AppRole.PREFECTURE_ANALYST, "110001", None),
            (AppRole.PLATFORM_ADMIN, "110001", SAITAMA_CITY),
        ],
    )
    async def test_schools_agencies_and_the_prefecture_read_no_person(
        self, as_user: Callable[..., Any], role: AppRole, home: str, act_in: str | None, table: str
    ) -> None:
        async with as_user(role, home, act_in=act_in) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetchval(f"SELECT count(*) FROM kizuna.{table} WHERE municipality_code = $1", act_in or home)

    async def test_the_municipal_system_reads_and_writes_nothing(
        self, as_user: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        household = await admin_conn.fetchval(
            "SELECT id FROM kizuna.household WHERE municipality_code = $1 LIMIT 1", SAITAMA_CITY
        )
        async with as_user(AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY) as conn:
            assert await conn.fetchval(PEOPLE_COUNT, SAITAMA_CITY) > 0
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    INSERT_PERSON,
                    SAITAMA_CITY,
                    uuid.uuid4(),
                    household,
                )

    async def test_a_caseworker_cannot_write_another_tenant_s_person(
        self, as_user: Callable[..., Any], admin_conn: asyncpg.Connection
    ) -> None:
        household = await admin_conn.fetchval(
            "SELECT id FROM kizuna.household WHERE municipality_code = $1 LIMIT 1", KAWAGOE
        )
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            assert await conn.fetchval(PEOPLE_COUNT, KAWAGOE) == 0
            with pytest.raises(asyncpg.InsufficientPrivilegeError):  # row security's WITH CHECK
                await conn.execute(
                    INSERT_PERSON,
                    KAWAGOE,
                    uuid.uuid4(),
                    household,
                )


QUERY = """query($first: Int!) { people(first: $first) { edges { node { id familyName birthDate
  household { name } careRelationships { id carer { id familyName } caredFor { id } tasks } } } } }"""


async def statements_for(urls: DatabaseUrls, user: Any, first: int) -> list[str]:
    """The statements of a page of `first` people with their care relationships."""
    seen: list[str] = []
    database = await Database.connect(urls.app, size=1, on_statement=seen.append)
    me = user(AppRole.CASEWORKER, SAITAMA_CITY)
    caller = Caller(me.user_id, "https://idp.example/", me.subject, me.role, SAITAMA_CITY, me.organisation_id)
    executor = Executor(build_schema(), introspection=False)
    prepared = executor.prepare(QUERY)
    assert prepared.document is not None
    try:
        for _ in range(2):  # the second run: the first also carries asyncpg's type introspection
            seen.clear()
            # Not read-only: the read audit writes before COMMIT, as the request path does.
            async with open_scope(database, caller, request_id=uuid.uuid4().hex, readonly=False) as scope:
                result = await executor.execute(
                    prepared.document, variables={"first": first}, context=scope, operation_name=None
                )
            assert result.errors is None, result.errors
            assert result.data is not None
            assert len(result.data["people"]["edges"]) == first
    finally:
        await database.close()
    return [s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "SELECT KIZUNA.BEGIN_REQUEST"))]


async def test_a_page_of_50_people_with_their_care_costs_what_a_page_of_1_costs(urls: DatabaseUrls, user: Any) -> None:
    one = await statements_for(urls, user, 1)
    fifty = await statements_for(urls, user, 50)
    # the page (households and schools joined in), every care relationship of the page,
    # then the read audit: one event per person read, in one INSERT before COMMIT
    assert len(one) == len(fifty) == 3
    assert "care_relationship" in fifty[1]
    assert all(s.lstrip().startswith("INSERT INTO kizuna.audit_event") for s in (one[2], fifty[2]))


async def test_the_keys_indexes_serve_a_prefix_search(admin_conn: asyncpg.Connection) -> None:
    """The prefix range on either key is a range of its index (municipality_code first).
    Counted here: on a tenant this small the page itself rather walks the newest-first
    index, which the planner is right to do."""
    key_range = service.search_range("たかさき")
    assert key_range is not None
    await admin_conn.execute("ANALYZE kizuna.person")
    rows = await admin_conn.fetch("EXPLAIN " + service.count_sql(True), SAITAMA_CITY, *key_range)
    plan = "\n".join(r[0] for r in rows)
    assert "ix_person_municipality_code_name_key_birth_date" in plan, plan
    assert "ix_person_municipality_code_kana_key_birth_date" in plan, plan
