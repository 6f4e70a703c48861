"""Merging duplicate people (`mergePeople`) and undoing it (`undoPersonMerge`): every
reference moves and comes back exactly, conflicts are refused and write nothing, two
merges at once give one winner and one user error, another tenant's ids fail as unknown
ones and change nothing, and the database refuses what the rules refuse.

Each test makes its own people and their records; `fresh` removes them afterwards (and,
through `tidy`, the audit events).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from kizuna.platform.database import Database
from kizuna.platform.models import TenantTable
from kizuna.platform.scope import open_scope
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.person_merges import service
from kizuna.schema.relay import decode_global_id, encode_global_id
from kizuna.tests.conftest import Janitor, rows_added_are_removed

if TYPE_CHECKING:
    from kizuna.platform.caller import Caller
    from kizuna.tests.conftest import Tidy

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
SEEDED = (SAITAMA_CITY, KAWAGOE)
ERRORS = "userErrors { field message code }"
MERGE = f"""mutation($input: MergePeopleInput!) {{ mergePeople(input: $input) {{
  kept {{ id mergedInto {{ id }} }} duplicate {{ id mergedInto {{ id }} }} {ERRORS} }} }}"""
UNDO = f"""mutation($input: UndoPersonMergeInput!) {{ undoPersonMerge(input: $input) {{
  kept {{ id mergedInto {{ id }} }} duplicate {{ id mergedInto {{ id }} }} {ERRORS} }} }}"""
CREATE = f"""mutation($input: CreatePersonInput!) {{ createPerson(input: $input) {{
  person {{ id household {{ id }} }} duplicates {{ id }} {ERRORS} }} }}"""
ADD_CARE = f"""mutation($input: AddCareRelationshipInput!) {{ addCareRelationship(input: $input) {{
  careRelationship {{ id }} {ERRORS} }} }}"""
ACCEPT = f"""mutation($input: AcceptReferralInput!) {{ acceptReferral(input: $input) {{ {ERRORS} }} }}"""
REMOVE_CARE = f"""mutation($input: RemoveCareRelationshipInput!) {{ removeCareRelationship(input: $input) {{
  careRelationship {{ id }} {ERRORS} }} }}"""
SEARCH = "query($search: String) { people(search: $search) { totalCount nodes { id } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Person { familyName mergedInto { id familyName } } } }"
# Children first: the foreign keys hold while a test's rows go.
TABLES = ("person_merge", "consent", "referral", "carer_case", "care_relationship", "person", "household")
# Every row a merge changes but its own record, as the superuser sees them: equal before a
# merge and after its undo.
FINGERPRINT = """
SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
    SELECT p.*::text AS t FROM kizuna.person p WHERE municipality_code = $1
    UNION ALL SELECT r.*::text FROM kizuna.care_relationship r WHERE municipality_code = $1
    UNION ALL SELECT c.*::text FROM kizuna.carer_case c WHERE municipality_code = $1
    UNION ALL SELECT f.*::text FROM kizuna.referral f WHERE municipality_code = $1
    UNION ALL SELECT s.*::text FROM kizuna.consent s WHERE municipality_code = $1) rows
"""
MERGES = "SELECT md5(string_agg(m.*::text, '|' ORDER BY m.id)) FROM kizuna.person_merge m WHERE municipality_code = $1"
INSERT_CASE = """
INSERT INTO kizuna.carer_case (municipality_code, id, person_id, household_id, category, stage, risk_level, opened_at)
VALUES ($1, $2, $3, $4, 'young_carer', 'intake', 'low', now())
"""
INSERT_CONSENT = """
INSERT INTO kizuna.consent (municipality_code, id, person_id, case_id, given_by, purpose, given_at)
VALUES ($1, $2, $3, $4, 'self', '関係機関との情報共有', now())
"""
INSERT_REFERRAL = """
INSERT INTO kizuna.referral (municipality_code, id, source, person_id, case_id, noticed, urgency, status,
    received_at, decided_at)
VALUES ($1, $2, 'school', $3, $4, '欠席が続いている', 'routine', 'accepted', now(), now())
"""
_names = itertools.count()


@pytest.fixture
async def fresh(admin_conn: asyncpg.Connection, tidy: Tidy, janitor: Janitor) -> AsyncIterator[None]:
    """Afterwards, as the superuser: every row of `TABLES` the test added."""
    async with rows_added_are_removed(admin_conn, janitor, TABLES):
        yield


def key(global_id: str) -> uuid.UUID:
    return decode_global_id(global_id)[1]


def gid(person_id: uuid.UUID) -> str:
    return encode_global_id("Person", person_id)


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


def refused(body: dict[str, Any], field: str) -> dict[str, Any]:
    (error,) = payload(body, field)["userErrors"]
    found: dict[str, Any] = error
    return found


class People:
    """Makes people and their records in a tenant as its caseworker (GraphQL) or, for the
    records that have no mutation yet, as the superuser."""

    def __init__(self, graphql: Callable[..., dict[str, Any]], admin_conn: asyncpg.Connection) -> None:
        self.graphql = graphql
        self.admin = admin_conn

    def ask(self, document: str, field: str, variables: dict[str, Any], municipality: str = SAITAMA_CITY) -> Any:
        return payload(self.graphql(document, AppRole.CASEWORKER, municipality, {"input": variables}), field)

    def person(self, municipality: str = SAITAMA_CITY, family_name: str | None = None) -> uuid.UUID:
        name = family_name or f"統合{next(_names)}"
        created = self.ask(
            CREATE,
            "createPerson",
            {
                "familyName": name,
                "givenName": "花子",
                "familyNameKana": "トウゴウ",
                "givenNameKana": "ハナコ",
                "birthDate": "2012-05-06",
                "householdName": f"{name}家",
                "confirmedNotDuplicate": True,
            },
            municipality,
        )
        assert created["userErrors"] == [], created
        return key(created["person"]["id"])

    def care(self, carer: uuid.UUID, cared_for: uuid.UUID, municipality: str = SAITAMA_CITY) -> uuid.UUID:
        added = self.ask(
            ADD_CARE,
            "addCareRelationship",
            {"carerId": gid(carer), "caredForId": gid(cared_for), "relationship": "母", "hoursPerWeek": 7},
            municipality,
        )
        assert added["userErrors"] == [], added
        return key(added["careRelationship"]["id"])

    async def records(self, person_id: uuid.UUID, municipality: str = SAITAMA_CITY) -> dict[str, uuid.UUID]:
        """A case, a consent and an accepted referral about `person_id`."""
        household = await self.admin.fetchval(
            "SELECT household_id FROM kizuna.person WHERE municipality_code = $1 AND id = $2", municipality, person_id
        )
        case, consent, referral = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await self.admin.execute(INSERT_CASE, municipality, case, person_id, household)
        await self.admin.execute(INSERT_CONSENT, municipality, consent, person_id, case)
        await self.admin.execute(INSERT_REFERRAL, municipality, referral, person_id, case)
        return {"carer_case": case, "consent": consent, "referral": referral}

    def merge(self, keep: uuid.UUID, duplicate: uuid.UUID, municipality: str = SAITAMA_CITY) -> dict[str, Any]:
        variables = {"keepPersonId": gid(keep), "duplicatePersonId": gid(duplicate), "reason": "同一人物の二重登録"}
        result: dict[str, Any] = self.ask(MERGE, "mergePeople", variables, municipality)
        return result

    def undo(self, duplicate: uuid.UUID, municipality: str = SAITAMA_CITY) -> dict[str, Any]:
        variables = {"duplicatePersonId": gid(duplicate), "reason": "別人と判明した"}
        result: dict[str, Any] = self.ask(UNDO, "undoPersonMerge", variables, municipality)
        return result


@pytest.fixture
def people(graphql: Callable[..., dict[str, Any]], admin_conn: asyncpg.Connection) -> People:
    return People(graphql, admin_conn)


async def fingerprint(admin_conn: asyncpg.Connection, municipality: str = SAITAMA_CITY) -> str:
    found: str = await admin_conn.fetchval(FINGERPRINT, municipality)
    return found


async def everything(admin_conn: asyncpg.Connection, municipality: str) -> tuple[str, str | None]:
    """The tenant's people, their references and its merge records."""
    return await fingerprint(admin_conn, municipality), await admin_conn.fetchval(MERGES, municipality)


async def names(admin_conn: asyncpg.Connection, table: str, column: str, row_id: uuid.UUID) -> uuid.UUID:
    found: uuid.UUID = await admin_conn.fetchval(
        f"SELECT {column} FROM kizuna.{table} WHERE municipality_code = $1 AND id = $2", SAITAMA_CITY, row_id
    )
    return found


async def audited(admin_conn: asyncpg.Connection, tidy: Tidy, action: str) -> set[tuple[str, uuid.UUID, str]]:
    rows = await admin_conn.fetch(
        "SELECT entity, entity_id, fields FROM kizuna.audit_event"
        " WHERE municipality_code = $1 AND action = $2 AND occurred_at >= $3",
        SAITAMA_CITY,
        action,
        tidy.began,
    )
    return {(r["entity"], r["entity_id"], ",".join(r["fields"])) for r in rows}


def test_the_merge_knows_every_column_that_names_a_person(admin_conn: asyncpg.Connection) -> None:
    """A new column naming a person fails here until the merge moves it (`REFERENCES`) or
    says why it does not (`NOT_MOVED`); the models are compared, and the database below."""
    known = {(r.table, r.column) for r in service.REFERENCES} | service.NOT_MOVED
    in_models = {
        (model.__tablename__, column)
        for model in TenantTable.__subclasses__()
        for column, table in model.tenant_refs.items()
        if table == "person"
    }
    assert in_models == known
    assert not {(r.table, r.column) for r in service.REFERENCES} & service.NOT_MOVED


async def test_the_database_s_keys_onto_person_are_the_models(admin_conn: asyncpg.Connection) -> None:
    rows = await admin_conn.fetch(
        """
        SELECT c.conrelid::regclass::text AS source, a.attname AS column
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
        WHERE c.contype = 'f' AND c.confrelid = 'kizuna.person'::regclass AND a.attname <> 'municipality_code'
        """
    )
    known = {(r.table, r.column) for r in service.REFERENCES} | service.NOT_MOVED
    assert {(r["source"].removeprefix("kizuna."), r["column"]) for r in rows} == known


@pytest.mark.usefixtures("fresh")
class TestMerge:
    async def test_every_reference_moves_and_the_duplicate_stays_with_its_history(
        self, people: People, user: Callable[..., Any], admin_conn: asyncpg.Connection, tidy: Tidy
    ) -> None:
        keep, duplicate, sibling, parent = (people.person() for _ in range(4))
        records = await people.records(duplicate)
        as_carer = people.care(duplicate, sibling)
        as_cared_for = people.care(parent, duplicate)

        merged = people.merge(keep, duplicate)
        assert merged["userErrors"] == []
        assert merged["kept"] == {"id": gid(keep), "mergedInto": None}
        assert merged["duplicate"] == {"id": gid(duplicate), "mergedInto": {"id": gid(keep)}}
        for table in ("carer_case", "consent"):
            assert await names(admin_conn, table, "person_id", records[table]) == keep, table
        assert await names(admin_conn, "care_relationship", "carer_person_id", as_carer) == keep
        assert await names(admin_conn, "care_relationship", "cared_for_person_id", as_cared_for) == keep
        # The decided referral stays as decided; the case it names moved.
        assert await names(admin_conn, "referral", "person_id", records["referral"]) == duplicate
        record = await admin_conn.fetchrow(
            "SELECT * FROM kizuna.person_merge WHERE municipality_code = $1 AND duplicate_person_id = $2",
            SAITAMA_CITY,
            duplicate,
        )
        assert record["kept_person_id"] == keep
        assert record["merged_by"] == user(AppRole.CASEWORKER, SAITAMA_CITY).user_id
        assert (record["carer_case_ids"], record["consent_ids"]) == ([records["carer_case"]], [records["consent"]])
        assert (record["carer_relationship_ids"], record["cared_for_relationship_ids"]) == ([as_carer], [as_cared_for])
        assert record["undone_at"] is None

        moved = {
            ("person_merge", record["id"], "kept_person_id,duplicate_person_id,reason"),
            ("person", duplicate, "merged_into_id"),
            ("carer_case", records["carer_case"], "person_id"),
            ("consent", records["consent"], "person_id"),
            ("care_relationship", as_carer, "carer_person_id"),
            ("care_relationship", as_cared_for, "cared_for_person_id"),
        }
        assert await audited(admin_conn, tidy, service.MERGE_ACTION) == moved

    async def test_the_duplicate_leaves_search_and_the_duplicate_check_but_node_reads_it(
        self, people: People, graphql: Callable[..., Any]
    ) -> None:
        name = f"統合検索{uuid.uuid4().hex[:6]}"
        keep, duplicate = people.person(family_name=name), people.person(family_name=name)
        found = payload(graphql(SEARCH, AppRole.CASEWORKER, SAITAMA_CITY, {"search": name}), "people")
        assert {n["id"] for n in found["nodes"]} == {gid(keep), gid(duplicate)}

        assert people.merge(keep, duplicate)["userErrors"] == []
        found = payload(graphql(SEARCH, AppRole.CASEWORKER, SAITAMA_CITY, {"search": name}), "people")
        assert (found["totalCount"], [n["id"] for n in found["nodes"]]) == (1, [gid(keep)])
        again = {
            "familyName": name,
            "givenName": "花子",
            "familyNameKana": "トウゴウ",
            "givenNameKana": "ハナコ",
            "birthDate": "2012-05-06",
            "householdName": "同じ家",
        }
        candidates = people.ask(CREATE, "createPerson", again)
        assert [d["id"] for d in candidates["duplicates"]] == [gid(keep)]
        node = payload(graphql(NODE, AppRole.CASEWORKER, SAITAMA_CITY, {"id": gid(duplicate)}), "node")
        assert node == {"id": gid(duplicate), "familyName": name, "mergedInto": {"id": gid(keep), "familyName": name}}

    async def test_a_merged_person_is_named_by_no_new_record(self, people: People) -> None:
        keep, duplicate, other = people.person(), people.person(), people.person()
        assert people.merge(keep, duplicate)["userErrors"] == []
        added = people.ask(
            ADD_CARE,
            "addCareRelationship",
            {"carerId": gid(duplicate), "caredForId": gid(other), "relationship": "母", "hoursPerWeek": 1},
        )
        (error,) = added["userErrors"]
        assert (error["field"], error["code"]) == ("carerId", "CONFLICT")

    async def test_nor_opens_a_case(self, people: People, admin_conn: asyncpg.Connection) -> None:
        keep, duplicate = people.person(), people.person()
        assert people.merge(keep, duplicate)["userErrors"] == []
        submitted = await admin_conn.fetchval(
            "SELECT id FROM kizuna.referral WHERE municipality_code = $1 AND status = 'submitted' LIMIT 1", SAITAMA_CITY
        )
        accept = {
            "id": encode_global_id("Referral", submitted),
            "personId": gid(duplicate),
            "category": "YOUNG_CARER",
        }
        (error,) = people.ask(ACCEPT, "acceptReferral", accept)["userErrors"]
        assert (error["field"], error["code"]) == ("personId", "CONFLICT")

    @pytest.mark.parametrize("role", [AppRole.COORDINATOR, AppRole.SUPERVISOR])
    async def test_every_municipal_staff_role_merges_and_undoes(
        self, people: People, graphql: Callable[..., Any], role: AppRole
    ) -> None:
        keep, duplicate = people.person(), people.person()
        reason = {"reason": "二重登録"}
        pair = {"keepPersonId": gid(keep), "duplicatePersonId": gid(duplicate)}
        merged = graphql(MERGE, role, SAITAMA_CITY, {"input": pair | reason})
        assert payload(merged, "mergePeople")["userErrors"] == []
        undone = graphql(UNDO, role, SAITAMA_CITY, {"input": {"duplicatePersonId": gid(duplicate)} | reason})
        assert payload(undone, "undoPersonMerge")["userErrors"] == []


@pytest.mark.usefixtures("fresh")
class TestUndo:
    async def test_an_undo_puts_every_moved_reference_back_exactly(
        self, people: People, admin_conn: asyncpg.Connection, tidy: Tidy
    ) -> None:
        keep, duplicate, sibling, parent = (people.person() for _ in range(4))
        await people.records(duplicate)
        await people.records(keep)
        people.care(duplicate, sibling)
        people.care(parent, duplicate)
        people.care(keep, parent)
        before = await fingerprint(admin_conn)

        assert people.merge(keep, duplicate)["userErrors"] == []
        assert await fingerprint(admin_conn) != before
        undone = people.undo(duplicate)
        assert undone["userErrors"] == []
        assert undone["duplicate"] == {"id": gid(duplicate), "mergedInto": None}
        record = await admin_conn.fetchrow(
            "SELECT undone_at, undone_by, undo_reason FROM kizuna.person_merge"
            " WHERE municipality_code = $1 AND duplicate_person_id = $2",
            SAITAMA_CITY,
            duplicate,
        )
        assert record["undone_at"] is not None
        assert record["undo_reason"] == "別人と判明した"
        assert await fingerprint(admin_conn) == before
        merged_events = await audited(admin_conn, tidy, service.MERGE_ACTION)
        undo_events = await audited(admin_conn, tidy, service.UNDO_ACTION)
        assert {(e, i) for e, i, _ in undo_events} == {(e, i) for e, i, _ in merged_events}

    async def test_after_the_undo_the_person_may_be_merged_again(self, people: People) -> None:
        keep, duplicate = people.person(), people.person()
        assert people.merge(keep, duplicate)["userErrors"] == []
        assert people.undo(duplicate)["userErrors"] == []
        assert people.merge(keep, duplicate)["userErrors"] == []

    async def test_a_person_not_merged_or_undone_already_is_a_conflict(self, people: People) -> None:
        keep, duplicate = people.person(), people.person()
        error = refused_undo(people, duplicate)
        assert (error["field"], error["code"]) == ("duplicatePersonId", "CONFLICT")
        assert people.merge(keep, duplicate)["userErrors"] == []
        assert people.undo(duplicate)["userErrors"] == []
        error = refused_undo(people, duplicate)
        assert (error["field"], error["code"]) == ("duplicatePersonId", "CONFLICT")

    async def test_the_kept_person_merged_since_must_be_undone_first(
        self, people: People, admin_conn: asyncpg.Connection
    ) -> None:
        first, second, third = people.person(), people.person(), people.person()
        records = await people.records(second)
        before = await fingerprint(admin_conn)
        assert people.merge(first, second)["userErrors"] == []
        assert people.merge(third, first)["userErrors"] == []
        assert await names(admin_conn, "carer_case", "person_id", records["carer_case"]) == third
        during = await everything(admin_conn, SAITAMA_CITY)
        error = refused_undo(people, second)
        assert (error["code"], error["message"]) == (
            "CONFLICT",
            "残した人がその後、別の人に統合されています。先にその統合を取り消してください。",
        )
        assert await everything(admin_conn, SAITAMA_CITY) == during
        assert people.undo(first)["userErrors"] == []
        assert people.undo(second)["userErrors"] == []
        assert await names(admin_conn, "carer_case", "person_id", records["carer_case"]) == second
        assert await fingerprint(admin_conn) == before

    async def test_a_moved_row_removed_since_makes_the_undo_a_conflict_that_changes_nothing(
        self, people: People, admin_conn: asyncpg.Connection
    ) -> None:
        keep, duplicate, sibling = people.person(), people.person(), people.person()
        moved = people.care(duplicate, sibling)
        assert people.merge(keep, duplicate)["userErrors"] == []
        removed = people.ask(REMOVE_CARE, "removeCareRelationship", {"id": encode_global_id("CareRelationship", moved)})
        assert removed["userErrors"] == []
        during = await everything(admin_conn, SAITAMA_CITY)
        error = refused_undo(people, duplicate)
        assert (error["field"], error["code"]) == ("duplicatePersonId", "CONFLICT")
        assert await everything(admin_conn, SAITAMA_CITY) == during


def refused_undo(people: People, duplicate: uuid.UUID) -> dict[str, Any]:
    (error,) = people.undo(duplicate)["userErrors"]
    found: dict[str, Any] = error
    return found


@pytest.mark.usefixtures("fresh")
class TestConflicts:
    """Each refused merge names its field and changes nothing."""

    async def test_care_between_the_two_or_with_the_same_person_on_both_is_refused(
        self, people: People, admin_conn: asyncpg.Connection
    ) -> None:
        keep, duplicate, sibling = people.person(), people.person(), people.person()
        between = people.care(duplicate, keep)
        before = await everything(admin_conn, SAITAMA_CITY)
        error = refused_merge(people, keep, duplicate)
        assert (error["field"], error["code"]) == ("duplicatePersonId", "CONFLICT")
        assert "自分自身" in error["message"]
        assert await everything(admin_conn, SAITAMA_CITY) == before

        people.ask(REMOVE_CARE, "removeCareRelationship", {"id": encode_global_id("CareRelationship", between)})
        people.care(keep, sibling)
        people.care(duplicate, sibling)
        before = await everything(admin_conn, SAITAMA_CITY)
        error = refused_merge(people, keep, duplicate)
        assert (error["field"], error["code"]) == ("duplicatePersonId", "CONFLICT")
        assert "重複" in error["message"]
        assert await everything(admin_conn, SAITAMA_CITY) == before

    async def test_the_same_person_twice_a_merged_person_and_a_blank_reason_are_refused(
        self, people: People, admin_conn: asyncpg.Connection
    ) -> None:
        keep, duplicate, third = people.person(), people.person(), people.person()
        error = refused_merge(people, keep, keep)
        assert (error["field"], error["code"]) == ("duplicatePersonId", "BAD_USER_INPUT")
        blank = people.ask(
            MERGE, "mergePeople", {"keepPersonId": gid(keep), "duplicatePersonId": gid(duplicate), "reason": " "}
        )
        assert [(e["field"], e["code"]) for e in blank["userErrors"]] == [("reason", "BAD_USER_INPUT")]
        assert people.merge(keep, duplicate)["userErrors"] == []
        before = await everything(admin_conn, SAITAMA_CITY)
        for kept, merged, field in ((third, duplicate, "duplicatePersonId"), (duplicate, third, "keepPersonId")):
            error = refused_merge(people, kept, merged)
            assert (error["field"], error["code"]) == (field, "CONFLICT")
        assert await everything(admin_conn, SAITAMA_CITY) == before


def refused_merge(people: People, keep: uuid.UUID, duplicate: uuid.UUID) -> dict[str, Any]:
    (error,) = people.merge(keep, duplicate)["userErrors"]
    found: dict[str, Any] = error
    return found


@pytest.mark.usefixtures("fresh")
class TestAtTheSameTime:
    """A merge holds both people until it commits: a second merge of either waits, then
    finds the person merged and answers a user error (never a 500 or a deadlock)."""

    @pytest.mark.parametrize("second", ["same", "reversed"])
    async def test_of_two_merges_of_the_same_people_one_wins(
        self,
        people: People,
        database: Database,
        caller_of: Callable[[AppRole, str], Caller],
        admin_conn: asyncpg.Connection,
        second: str,
    ) -> None:
        keep, duplicate = people.person(), people.person()
        await people.records(duplicate)
        # The same again finds the duplicate merged; the reverse finds the person to keep merged.
        pair, field = (
            ((keep, duplicate), "duplicatePersonId") if second == "same" else ((duplicate, keep), "keepPersonId")
        )
        caller = caller_of(AppRole.CASEWORKER, SAITAMA_CITY)
        async with open_scope(database, caller, request_id="first-merge", readonly=False) as scope:
            await service.do_merge_people(scope, keep, duplicate, "二重登録")
            racing = asyncio.create_task(asyncio.to_thread(people.merge, *pair))
            await asyncio.sleep(1.0)
            assert not racing.done()  # waiting for the people
        (error,) = (await racing)["userErrors"]
        assert (error["field"], error["code"]) == (field, "CONFLICT")
        assert (
            await admin_conn.fetchval(
                "SELECT count(*) FROM kizuna.person_merge WHERE municipality_code = $1 AND $2 IN (kept_person_id,"
                " duplicate_person_id)",
                SAITAMA_CITY,
                keep,
            )
            == 1
        )

    async def test_of_two_undos_one_wins(
        self, people: People, database: Database, caller_of: Callable[[AppRole, str], Caller]
    ) -> None:
        keep, duplicate = people.person(), people.person()
        assert people.merge(keep, duplicate)["userErrors"] == []
        caller = caller_of(AppRole.SUPERVISOR, SAITAMA_CITY)
        async with open_scope(database, caller, request_id="first-undo", readonly=False) as scope:
            await service.do_undo_person_merge(scope, duplicate, "別人")
            racing = asyncio.create_task(asyncio.to_thread(people.undo, duplicate))
            await asyncio.sleep(1.0)
            assert not racing.done()
        (error,) = (await racing)["userErrors"]
        assert (error["field"], error["code"]) == ("duplicatePersonId", "CONFLICT")


@pytest.mark.usefixtures("fresh")
class TestAnotherTenantsIds:
    """さいたま市's caseworker with 川越市's people (one of them merged there): NOT_FOUND, as
    for an unknown id, and nothing of 川越市 changed."""

    async def test_every_mutation_fails_like_an_unknown_id_and_changes_nothing(
        self, people: People, admin_conn: asyncpg.Connection
    ) -> None:
        their_keep, their_duplicate = people.person(KAWAGOE), people.person(KAWAGOE)
        await people.records(their_duplicate, KAWAGOE)
        assert people.merge(their_keep, their_duplicate, KAWAGOE)["userErrors"] == []
        their_other = people.person(KAWAGOE)
        ours = people.person()
        before = await everything(admin_conn, KAWAGOE)

        def as_keep(them: uuid.UUID) -> dict[str, Any]:
            return refused_merge(people, them, ours)

        def as_duplicate(them: uuid.UUID) -> dict[str, Any]:
            return refused_merge(people, ours, them)

        def undone(them: uuid.UUID) -> dict[str, Any]:
            return refused_undo(people, them)

        attempts: list[tuple[Callable[[uuid.UUID], dict[str, Any]], str, uuid.UUID]] = [
            (as_keep, "keepPersonId", their_other),
            (as_duplicate, "duplicatePersonId", their_other),
            (as_duplicate, "duplicatePersonId", their_keep),
            (undone, "duplicatePersonId", their_duplicate),
        ]
        for attempt, field, theirs in attempts:
            crossed, missing = attempt(theirs), attempt(uuid.uuid4())
            assert crossed == missing, field
            assert (crossed["field"], crossed["code"]) == (field, "NOT_FOUND")
        assert await everything(admin_conn, KAWAGOE) == before


@pytest.mark.usefixtures("fresh")
class TestTheDatabaseRefuses:
    """In SQL, as the app role of each request: a resolver that forgot its check would
    still be refused."""

    @pytest.fixture
    async def merge(self, people: People, admin_conn: asyncpg.Connection) -> asyncpg.Record:
        keep, duplicate = people.person(), people.person()
        await people.records(duplicate)
        assert people.merge(keep, duplicate)["userErrors"] == []
        row: asyncpg.Record = await admin_conn.fetchrow(
            "SELECT * FROM kizuna.person_merge WHERE municipality_code = $1 AND duplicate_person_id = $2",
            SAITAMA_CITY,
            duplicate,
        )
        return row

    @pytest.mark.parametrize(
        "change",
        [
            "DELETE FROM kizuna.person_merge WHERE municipality_code = $1 AND id = $2",
            "UPDATE kizuna.person_merge SET carer_case_ids = '{}' WHERE municipality_code = $1 AND id = $2",
            "UPDATE kizuna.person_merge SET kept_person_id = duplicate_person_id, duplicate_person_id = kept_person_id"
            " WHERE municipality_code = $1 AND id = $2",
            "UPDATE kizuna.person_merge SET merged_at = now() WHERE municipality_code = $1 AND id = $2",
        ],
    )
    async def test_staff_neither_delete_nor_rewrite_a_merge(
        self, as_user: Callable[..., Any], merge: asyncpg.Record, change: str
    ) -> None:
        async with as_user(AppRole.SUPERVISOR, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(change, SAITAMA_CITY, merge["id"])

    async def test_staff_merge_and_undo_only_in_their_own_name(
        self, as_user: Callable[..., Any], merge: asyncpg.Record, people: People
    ) -> None:
        keep, duplicate = people.person(), people.person()
        someone_else = uuid.uuid4()
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                await conn.execute(
                    "INSERT INTO kizuna.person_merge (municipality_code, id, kept_person_id, duplicate_person_id,"
                    " reason, merged_at, merged_by, carer_case_ids, consent_ids, carer_relationship_ids,"
                    " cared_for_relationship_ids) VALUES ($1, $2, $3, $4, 'x', now(), $5, '{}', '{}', '{}', '{}')",
                    SAITAMA_CITY,
                    uuid.uuid4(),
                    keep,
                    duplicate,
                    someone_else,
                )
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
                await conn.execute(
                    "UPDATE kizuna.person_merge SET undone_at = now(), undone_by = $3, undo_reason = 'x'"
                    " WHERE municipality_code = $1 AND id = $2",
                    SAITAMA_CITY,
                    merge["id"],
                    someone_else,
                )

    async def test_an_undone_merge_is_never_changed_again(
        self, as_user: Callable[..., Any], merge: asyncpg.Record, people: People
    ) -> None:
        assert people.undo(merge["duplicate_person_id"])["userErrors"] == []
        async with as_user(AppRole.CASEWORKER, SAITAMA_CITY) as conn:
            status = await conn.execute(
                "UPDATE kizuna.person_merge SET undone_at = now(), undone_by = kizuna.current_user_id(),"
                " undo_reason = 'x' WHERE municipality_code = $1 AND id = $2",
                SAITAMA_CITY,
                merge["id"],
            )
            assert status == "UPDATE 0"

    async def test_the_municipal_system_reads_merges_and_writes_none(
        self, as_user: Callable[..., Any], merge: asyncpg.Record
    ) -> None:
        async with as_user(AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY) as conn:
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM kizuna.person_merge WHERE municipality_code = $1 AND id = $2",
                    SAITAMA_CITY,
                    merge["id"],
                )
                == 1
            )
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "UPDATE kizuna.person SET merged_into_id = NULL WHERE municipality_code = $1 AND id = $2",
                    SAITAMA_CITY,
                    merge["duplicate_person_id"],
                )
        async with as_user(AppRole.MUNICIPAL_SYSTEM, SAITAMA_CITY) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(
                    "UPDATE kizuna.person_merge SET undone_at = now() WHERE municipality_code = $1 AND id = $2",
                    SAITAMA_CITY,
                    merge["id"],
                )

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
    async def test_schools_agencies_and_the_prefecture_read_no_merge(
        self, as_user: Callable[..., Any], role: AppRole, home: str, act_in: str | None
    ) -> None:
        async with as_user(role, home, act_in=act_in) as conn:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetchval(
                    "SELECT count(*) FROM kizuna.person_merge WHERE municipality_code = $1", act_in or home
                )

    async def test_another_tenant_s_staff_see_no_merge_and_write_none(
        self, as_user: Callable[..., Any], merge: asyncpg.Record
    ) -> None:
        async with as_user(AppRole.SUPERVISOR, KAWAGOE) as conn:
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM kizuna.person_merge WHERE municipality_code = $1", SAITAMA_CITY
                )
                == 0
            )
            status = await conn.execute(
                "UPDATE kizuna.person_merge SET undone_at = now(), undone_by = kizuna.current_user_id(),"
                " undo_reason = 'x' WHERE municipality_code = $1 AND id = $2",
                SAITAMA_CITY,
                merge["id"],
            )
            assert status == "UPDATE 0"
