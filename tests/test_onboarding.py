"""Onboarding a person through GraphQL alone: a platform administrator finds the school in
the organisation directory, grants the membership, and the teacher signs in to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import AppRole

if TYPE_CHECKING:
    from kizuna.tests.conftest import Tidy

KAWAGOE, PREFECTURE = "112011", "110001"
DIRECTORY = """query($code: String!, $kind: OrganisationKind) {
  organizations(municipalityCode: $code, kind: $kind) { id name kind }
}"""
GRANT = """mutation($input: GrantMembershipInput!) {
  grantMembership(input: $input) { membership { id active } userErrors { field code } }
}"""


def post(http: httpx.Client, bearer: str, query: str, variables: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {bearer}", **headers},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_teacher_is_onboarded_and_signs_in(
    http: httpx.Client, token: Callable[..., str], settings: Settings, tidy: Tidy
) -> None:
    newcomer = tidy.subject("teacher")
    admin = token(AppRole.PLATFORM_ADMIN, PREFECTURE)
    schools = post(http, admin, DIRECTORY, {"code": KAWAGOE, "kind": "JUNIOR_HIGH_SCHOOL"})["data"]["organizations"]
    assert schools
    assert {s["kind"] for s in schools} == {"JUNIOR_HIGH_SCHOOL"}
    school = schools[0]
    grant = {
        "issuer": settings.issuer,
        "subject": newcomer,
        "displayName": "川越 花子",
        "role": "SCHOOL_STAFF",
        "organizationId": school["id"],
    }
    body = post(http, admin, GRANT, {"input": grant}, **{"kizuna-municipality": KAWAGOE})
    assert body["data"]["grantMembership"]["userErrors"] == []
    teacher = token(AppRole.SCHOOL_STAFF, KAWAGOE, subject=newcomer)
    viewer = post(http, teacher, "{ viewer { role municipality { code } organization { id name } } }", {})
    assert viewer["data"]["viewer"] == {
        "role": "SCHOOL_STAFF",
        "municipality": {"code": KAWAGOE},
        "organization": {"id": school["id"], "name": school["name"]},
    }


def test_the_directory_holds_no_one_and_stays_in_the_prefecture(http: httpx.Client, token: Callable[..., str]) -> None:
    caseworker = token(AppRole.CASEWORKER, "111007")
    listed = post(http, caseworker, DIRECTORY, {"code": KAWAGOE, "kind": None})["data"]["organizations"]
    assert len(listed) > 5
    assert set(listed[0]) == {"id", "name", "kind"}
    for elsewhere in ("392014", "999999"):  # Kochi City, and no municipality at all
        assert post(http, caseworker, DIRECTORY, {"code": elsewhere, "kind": None})["data"]["organizations"] == []
