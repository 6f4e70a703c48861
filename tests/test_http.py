"""GraphQL over HTTP: media types, methods and status codes, on a real server."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from kizuna.platform.vocabulary import AppRole

SAITAMA_CITY = "111007"
VIEWER = "{ viewer { subject } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
def auth(token: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {token(AppRole.CASEWORKER, SAITAMA_CITY)}"}


class TestMediaTypes:
    def test_post_with_the_specifications_media_type(self, http: httpx.Client, auth: dict[str, str]) -> None:
        response = http.post("/graphql", json={"query": VIEWER}, headers=auth | {"accept": GRAPHQL_RESPONSE})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        assert response.json()["data"]["viewer"]["subject"] == "demo:caseworker:111007"
        assert response.headers["x-request-id"]

    def test_plain_json_when_asked(self, http: httpx.Client, auth: dict[str, str]) -> None:
        response = http.post("/graphql", json={"query": VIEWER}, headers=auth | {"accept": "application/json"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")

    def test_unacceptable_accept_is_406(self, http: httpx.Client, auth: dict[str, str]) -> None:
        response = http.post("/graphql", json={"query": VIEWER}, headers=auth | {"accept": "text/csv"})
        assert response.status_code == 406

    def test_non_json_body_is_415(self, http: httpx.Client, auth: dict[str, str]) -> None:
        response = http.post("/graphql", content=VIEWER, headers=auth | {"content-type": "text/plain"})
        assert response.status_code == 415

    def test_a_body_declared_too_large_is_refused_unread(self, server: Any) -> None:
        """No credentials needed to try, so the declared length is refused before any read:
        the headers alone get the answer."""
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(
                b"POST /graphql HTTP/1.1\r\nhost: kizuna\r\ncontent-type: application/json\r\n"
                b"content-length: 10000000000\r\n\r\n"
            )
            answer = conn.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413")

    def test_a_streamed_body_is_cut_off_at_the_limit(self, http: httpx.Client) -> None:
        chunk = b" " * 65536

        def endless() -> Any:
            for _ in range(10_000):  # 640 MiB if it were all read
                yield chunk

        response = http.post("/graphql", content=endless(), headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    @pytest.mark.parametrize("body", [b"{", b"[]", b'{"query": 1}', b'{"query": "{ a }", "variables": [1]}'])
    def test_malformed_request_is_400(self, http: httpx.Client, auth: dict[str, str], body: bytes) -> None:
        response = http.post("/graphql", content=body, headers=auth | {"content-type": "application/json"})
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


class TestInputTheDatabaseCannotTake:
    """Found by the generated documents (tests/test_compiled_generated.py): input no
    resolver checked reached the database and came back as INTERNAL. It is the caller's
    input, and nothing was written."""

    NUL = "\u0000"

    @pytest.mark.parametrize(
        ("query", "variables"),
        [
            ('{ people(search: "a\\u0000b") { edges { node { id } } } }', None),
            ("query($s: String!) { people(search: $s) { edges { node { id } } } }", {"s": f"a{NUL}b"}),
            ("query($i: CreatePersonInput!) { viewer { subject } }", {"i": {"familyName": NUL}}),
        ],
        ids=["in the document", "in a variable", "deep in a variable"],
    )
    def test_a_nul_character_is_bad_input(
        self, http: httpx.Client, auth: dict[str, str], query: str, variables: dict[str, Any] | None
    ) -> None:
        headers = auth | {"accept": GRAPHQL_RESPONSE}
        response = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert response.status_code == 400, response.text
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "U+0000" in error["message"]
        assert "data" not in response.json()

    @pytest.mark.parametrize(
        ("role", "municipality", "field", "query"),
        [
            (
                AppRole.PREFECTURE_ANALYST,
                "110001",
                "programmeActivities",
                "programmeActivities(fiscalYear: YEAR) { id }",
            ),
            (AppRole.PREFECTURE_ANALYST, "110001", "submissions", "submissions(fiscalYear: YEAR) { fiscalYear }"),
            (
                AppRole.SUPERVISOR,
                SAITAMA_CITY,
                "municipalityStatus",
                "municipalityStatus(fiscalYear: YEAR) { fiscalYear }",
            ),
            (
                AppRole.PREFECTURE_ANALYST,
                "110001",
                "prefectureStats",
                "prefectureStats(fiscalYears: [YEAR]) { computedAt }",
            ),
        ],
        ids=["programmeActivities", "submissions", "municipalityStatus", "prefectureStats"],
    )
    @pytest.mark.parametrize("year", [40000, -40000])
    def test_a_fiscal_year_out_of_range_is_bad_input(  # noqa: PLR0917  (parameters and fixtures by name)
        self, http: httpx.Client, token: Any, role: AppRole, municipality: str, field: str, query: str, year: int
    ) -> None:
        caller = {"authorization": f"Bearer {token(role, municipality)}"}
        body = http.post("/graphql", json={"query": "{ " + query.replace("YEAR", str(year)) + " }"}, headers=caller)
        errors = body.json().get("errors", [])
        assert [(e["extensions"]["code"], e.get("path")) for e in errors] in ([], [("BAD_USER_INPUT", [field])]), errors


class TestStatusCodes:
    def test_syntax_error_is_400_with_the_specifications_type(self, http: httpx.Client, auth: dict[str, str]) -> None:
        response = http.post("/graphql", json={"query": "{ viewer {"}, headers=auth | {"accept": GRAPHQL_RESPONSE})
        assert response.status_code == 400
        assert "data" not in response.json()

    def test_validation_error_is_200_with_plain_json(self, http: httpx.Client, auth: dict[str, str]) -> None:
        response = http.post("/graphql", json={"query": "{ nope }"}, headers=auth | {"accept": "application/json"})
        assert response.status_code == 200
        assert response.json()["errors"]

    def test_field_error_keeps_200_and_data(self, http: httpx.Client, auth: dict[str, str]) -> None:
        query = '{ viewer { subject } node(id: "x") { id } }'
        response = http.post("/graphql", json={"query": query}, headers=auth | {"accept": GRAPHQL_RESPONSE})
        assert response.status_code == 200
        data = response.json()["data"]
        assert data["node"] is None  # the failed field alone is null
        assert data["viewer"]["subject"]

    def test_unknown_operation_name_is_400(self, http: httpx.Client, auth: dict[str, str]) -> None:
        response = http.post(
            "/graphql", json={"query": "query A { viewer { subject } }", "operationName": "B"}, headers=auth
        )
        assert response.status_code == 400


class TestGet:
    def test_query_over_get(self, http: httpx.Client, auth: dict[str, str]) -> None:
        response = http.get("/graphql", params={"query": VIEWER}, headers=auth)
        assert response.status_code == 200
        assert response.json()["data"]["viewer"]["subject"] == "demo:caseworker:111007"

    def test_variables_over_get(self, http: httpx.Client, auth: dict[str, str]) -> None:
        query = "query($c: String!) { municipality(code: $c) { name } }"
        response = http.get("/graphql", params={"query": query, "variables": '{"c": "112011"}'}, headers=auth)
        assert response.json()["data"]["municipality"]["name"] == "川越市"

    def test_mutation_over_get_is_405(self, http: httpx.Client, auth: dict[str, str]) -> None:
        response = http.get("/graphql", params={"query": "mutation { x }"}, headers=auth)
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"

    @pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
    def test_other_methods_are_405(self, http: httpx.Client, auth: dict[str, str], method: str) -> None:
        response = http.request(method, "/graphql", json={"query": VIEWER}, headers=auth)
        assert response.status_code == 405
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}

    def test_a_call_with_a_cookie_answers_as_one_without(self, http: httpx.Client, auth: dict[str, str]) -> None:
        # API calls without cookies go straight to the endpoint (platform/app.py KizunaApp);
        # with a cookie, through the session middleware: the same answer either way.
        plain = http.post("/graphql", json={"query": VIEWER}, headers=auth)
        http.cookies.set("unrelated", "x")
        with_cookie = http.post("/graphql", json={"query": VIEWER}, headers=auth)
        http.cookies.clear()
        assert (plain.status_code, plain.json()["data"]) == (with_cookie.status_code, with_cookie.json()["data"])
        assert "set-cookie" not in plain.headers
        assert "set-cookie" not in with_cookie.headers

    def test_graphiql_in_development(self, http: httpx.Client) -> None:
        response = http.get("/graphql", headers={"accept": "text/html"})
        assert response.status_code == 200
        assert "graphiql" in response.text.lower()


class TestLimits:
    def test_too_many_aliases_are_refused(self, http: httpx.Client, auth: dict[str, str]) -> None:
        query = "{ " + " ".join(f"a{i}: viewer {{ subject }}" for i in range(40)) + " }"
        response = http.post("/graphql", json={"query": query}, headers=auth)
        assert "aliases" in response.json()["errors"][0]["message"].lower()

    def test_too_many_tokens_are_refused(self, http: httpx.Client, auth: dict[str, str]) -> None:
        query = "{ viewer { " + " ".join(["subject"] * 2100) + " } }"
        response = http.post("/graphql", json={"query": query}, headers=auth)
        assert "token" in response.json()["errors"][0]["message"].lower()

    def test_too_deep_is_refused(self, http: httpx.Client, auth: dict[str, str]) -> None:
        query = "{ viewer " + "{ organization " * 11 + "{ id }" + " }" * 11 + " }"
        response = http.post("/graphql", json={"query": query}, headers=auth)
        assert any("depth" in e["message"].lower() for e in response.json()["errors"])

    def test_introspection_available_in_development(self, http: httpx.Client, auth: dict[str, str]) -> None:
        response = http.post("/graphql", json={"query": "{ __schema { queryType { name } } }"}, headers=auth)
        assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


class TestHealth:
    def test_healthz(self, http: httpx.Client) -> None:
        assert http.get("/healthz").json() == {"status": "ok"}

    def test_readyz_reports_the_revision(self, http: httpx.Client) -> None:
        response = http.get("/readyz")
        assert response.status_code == 200
        assert response.json()["status"] == "ready"

    def test_jwks_is_published(self, http: httpx.Client) -> None:
        keys = http.get("/dev-idp/jwks.json").json()["keys"]
        assert keys
        assert all("d" not in key for key in keys)  # never the private part


class TestNothingIsCached:
    """Answers name people: no browser or proxy may keep one (a school's shared computer)."""

    @pytest.mark.parametrize(
        ("method", "query", "with_token"),
        [
            ("GET", "{ cases(first: 1) { edges { node { person { familyName } } } } }", True),
            ("POST", "{ cases(first: 1) { edges { node { person { familyName } } } } }", True),
            ("POST", "{ nope }", True),
            ("POST", '{ node(id: "x") { id } }', True),
            ("POST", VIEWER, False),
        ],
        ids=["GET with names", "POST with names", "invalid document", "field error", "no token"],
    )
    def test_every_graphql_answer_says_no_store(
        self, http: httpx.Client, auth: dict[str, str], method: str, query: str, *, with_token: bool
    ) -> None:
        headers = auth if with_token else {}
        if method == "GET":
            response = http.get("/graphql", params={"query": query}, headers=headers)
        else:
            response = http.post("/graphql", json={"query": query}, headers=headers)
        assert response.headers["cache-control"] == "no-store", response.status_code
