"""Limits on heavy requests: the document cost, the rate limit per user, and what a flood
from one user does to another's answers. Over real HTTP, with real tokens."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from kizuna.platform.app import create_app
from kizuna.platform.ratelimit import RateLimiter
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole
from kizuna.schema.cost import COUNT_COST, MAX_COST
from kizuna.schema.relay import encode_global_id
from kizuna.tenants import demo_users

if TYPE_CHECKING:
    from kizuna.tests.conftest import Tidy

SAITAMA_CITY = "111007"
KAWAGOE = "112011"
# The attack review's document: 30 aliases (the alias limit) of a full page with a count.
HEAVIEST = "{ " + " ".join(f"a{i}: cases(first: 100) {{ totalCount }}" for i in range(30)) + " }"
# The heaviest document the cost limit admits: fifteen full pages, each counted.
HEAVY_ADMITTED = "{ " + " ".join(f"a{i}: cases(first: 100) {{ totalCount }}" for i in range(15)) + " }"
SMALL = "{ viewer { role } }"
GRANT = """mutation($input: GrantMembershipInput!) {
  grantMembership(input: $input) { userErrors { code } }
}"""


def post(client: httpx.Client, bearer: str, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
    return client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"authorization": f"Bearer {bearer}"}
    )


class TestCost:
    @pytest.mark.parametrize(
        ("query", "variables", "cost"),
        [
            (SMALL, None, 1),
            ("{ cases(first: 10) { edges { node { id person { familyName } } } } }", None, 10 + 10),
            ("{ cases(first: 10) { totalCount edges { node { id } } } viewer { role } }", None, 10 + COUNT_COST + 1),
            ("{ cases { edges { node { id } } } }", None, 50),  # the default page size
            ("query($n: Int = 100) { referrals(first: $n) { edges { node { id } } } }", None, 100),
            ("query($n: Int) { referrals(first: $n) { edges { node { id } } } }", {"n": 7}, 7),
            (
                "query { ...f } fragment f on Query { cases(first: 3) { ...c } } fragment c on CaseConnection"
                " { totalCount }",
                None,
                3 + COUNT_COST,
            ),
            (HEAVY_ADMITTED, None, MAX_COST),
        ],
    )
    def test_the_cost_is_reported(
        self, http: httpx.Client, token: Any, query: str, variables: dict[str, Any] | None, cost: int
    ) -> None:
        response = post(http, token(AppRole.CASEWORKER, SAITAMA_CITY), query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        assert body["extensions"]["cost"]["requested"] == cost
        assert body["extensions"]["cost"]["limit"] == MAX_COST

    def test_the_attack_reviews_document_is_refused_before_it_runs(
        self, http: httpx.Client, token: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        response = post(http, token(AppRole.CASEWORKER, SAITAMA_CITY), HEAVIEST)
        assert response.status_code == 400
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["cost"] == {"requested": 30 * (100 + COUNT_COST), "limit": MAX_COST}
        assert "data" not in response.json()


class TestRateLimit:
    def test_a_bucket_refills_over_a_minute(self) -> None:
        now = [0.0]
        limiter = RateLimiter(600, clock=lambda: now[0])
        me, other = ("iss", "me"), ("iss", "other")
        assert limiter.take(me, 500) is None
        wait = limiter.take(me, 200)
        assert wait == pytest.approx(10.0)  # 100 points short, 10 points a second
        assert limiter.take(other, 600) is None  # another user has their own bucket
        now[0] = 10.0
        assert limiter.take(me, 200) is None
        assert limiter.remaining(me) == 0

    def test_each_process_holds_its_share(self) -> None:
        assert RateLimiter(10_000, processes=4).capacity == 2500

    @pytest.fixture
    def limited(self, data_dir: Any, urls: Any, signing_key: Any, serve: Any) -> Iterator[httpx.Client]:
        settings = Settings.from_env({"KIZUNA_DATA_DIR": str(data_dir), "KIZUNA_RATE_LIMIT": "3600"})
        app = create_app(settings, urls.app, dev_key=signing_key)
        with serve(app) as running, httpx.Client(base_url=running.url, timeout=30) as client:
            yield client

    def test_a_user_past_the_limit_is_refused_and_others_are_not(self, limited: httpx.Client, token: Any) -> None:
        me = token(AppRole.CASEWORKER, SAITAMA_CITY)
        assert post(limited, me, HEAVY_ADMITTED).status_code == 200
        refused = post(limited, me, HEAVY_ADMITTED)
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert post(limited, token(AppRole.CASEWORKER, KAWAGOE), HEAVY_ADMITTED).status_code == 200
        assert post(limited, me, SMALL).status_code == 200  # what is left pays for a small one


@pytest.fixture
def flooder(graphql: Any, settings: Settings, tidy: Tidy) -> str:
    """A caseworker of さいたま市 of its own: the flood empties its rate-limit bucket on the
    session's server, which would refuse the next test asking as a shared demo user."""
    variables = {
        "input": {
            "issuer": settings.issuer,
            "subject": tidy.subject("flooder"),
            "displayName": "テスト 職員",
            "role": "CASEWORKER",
            "organizationId": encode_global_id("Organization", demo_users.organisation_id(SAITAMA_CITY, "department")),
        }
    }
    body = graphql(GRANT, AppRole.SUPERVISOR, SAITAMA_CITY, variables)
    assert body["data"]["grantMembership"]["userErrors"] == []
    return tidy.subject("flooder")


def test_a_flood_from_one_user_leaves_anothers_answers_within_twice_their_quiet_time(
    http: httpx.Client, token: Any, flooder: str
) -> None:
    """24 concurrent copies of the heaviest admitted document, sent again as soon as each
    answer comes: the other user's median stays within 2x of what it is without them."""
    other = token(AppRole.CASEWORKER, KAWAGOE)
    page = "{ cases(first: 20) { edges { node { id stage person { familyName } } } } }"

    def median_time(samples: int = 30) -> float:
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            assert post(http, other, page).status_code == 200
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    median_time(5)  # warm up
    quiet = median_time()
    flooder_token = token(AppRole.CASEWORKER, SAITAMA_CITY, subject=flooder)
    stop = threading.Event()
    statuses: list[int] = []

    def flood(client_factory: Callable[[], httpx.Client]) -> None:
        with client_factory() as client:
            while not stop.is_set():
                statuses.append(post(client, flooder_token, HEAVY_ADMITTED).status_code)

    threads = [
        threading.Thread(target=flood, args=(lambda: httpx.Client(base_url=http.base_url, timeout=60),))
        for _ in range(24)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        flooded = median_time()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    # Quiet again, for the machine's own load (shared, it may have risen meanwhile): the
    # reference is the slower of the two quiet medians.
    quiet = max(quiet, median_time())
    assert 429 in statuses
    assert flooded <= 2 * quiet, (quiet, flooded, len(statuses))
