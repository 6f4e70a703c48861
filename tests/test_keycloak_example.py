"""The Keycloak example in deploy/keycloak/: the realm export and Kizuna's issuer file agree.

Keycloak is not run here. The checks read the realm as Keycloak 26's import does
(`RealmManager.importRealm`, `RepresentationToModel.createClient`) and pin the mistakes an
import accepts silently: a client scope named but not declared is skipped with a warning,
a realm file that declares any client scope gets none of Keycloak's built-in ones (so no
`basic` scope, no `sub` in access tokens), and a user attribute the user profile does not
declare is dropped.
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kizuna.auth.issuers import Assertion, load_issuers
from kizuna.platform.vocabulary import AppRole

FOLDER = Path(__file__).resolve().parent.parent / "deploy" / "keycloak"
OIDC = "openid-connect"
WEB_CLIENT = "kizuna"
SYSTEM_CLIENT = "kizuna-system-111007"
SYSTEM_SCOPE = "municipality:111007"
CALLBACK_PATH = "/auth/callback/staff"
SIGNED_OUT_PATH = "/auth/signed-out/staff"
PLACEHOLDER = "**********"
ISSUER_NAME = re.compile(r"[a-z0-9-]+")
# ClientScopeResource.scopeNamePattern: the scope-token characters of RFC 6749.
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")
# Mappers that write a claim of a fixed name rather than their `claim.name`.
FIXED_CLAIM = {"oidc-full-name-mapper": "name", "oidc-sub-mapper": "sub", "oidc-acr-mapper": "acr"}
ISSUER_KEYS = {"discovery_url", "client_id", "client_secret", "audience", "roles", "scope", "label", "claims"}
CLAIM_KEYS = {"role", "municipality", "organisation", "display_name", "role_values"}
# Claims that must reach both tokens: the ID token at sign-in, the access token on every request.
ASSERTED_CLAIMS = ("role", "municipality", "organisation")
USER_PROFILE = "org.keycloak.userprofile.UserProfileProvider"


@functools.cache
def realm() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FOLDER / "kizuna-realm.json").read_text(encoding="utf-8"))
    return loaded


@functools.cache
def issuers() -> dict[str, Any]:
    loaded: dict[str, Any] = tomllib.loads((FOLDER / "kizuna-idp.toml").read_text(encoding="utf-8"))["issuers"]
    return loaded


def staff() -> dict[str, Any]:
    found: dict[str, Any] = issuers()["staff"]
    return found


def client(client_id: str) -> dict[str, Any]:
    (found,) = [c for c in realm()["clients"] if c["clientId"] == client_id]
    return dict(found)


def scopes() -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in realm()["clientScopes"]}


def token_mappers(client_id: str) -> list[dict[str, Any]]:
    """Every mapper that runs for the client's tokens without being asked for: its own and
    its default scopes' (`TokenManager.getRequestedClientScopes`)."""
    found = client(client_id)
    mappers = list(found.get("protocolMappers", []))
    for name in found["defaultClientScopes"]:
        mappers.extend(scopes()[name].get("protocolMappers", []))
    return [m for m in mappers if m["protocol"] == OIDC]


def claim_of(mapper: dict[str, Any]) -> str | None:
    fixed = FIXED_CLAIM.get(mapper["protocolMapper"])
    return fixed if fixed is not None else mapper["config"].get("claim.name")


def user_profile() -> dict[str, Any]:
    (provider,) = realm()["components"][USER_PROFILE]
    assert provider["providerId"] == "declarative-user-profile"
    (text,) = provider["config"]["kc.user.profile.config"]
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def profile_attribute(name: str) -> dict[str, Any]:
    (found,) = [a for a in user_profile()["attributes"] if a["name"] == name]
    return dict(found)


def is_true(config: dict[str, Any], key: str) -> bool:
    return config.get(key) == "true"


class TestRoles:
    def test_every_realm_role_maps_to_a_kizuna_role_the_issuer_vouches_for(self) -> None:
        realm_roles = {r["name"] for r in realm()["roles"]["realm"]}
        role_values: dict[str, str] = staff()["claims"]["role_values"]
        assert realm_roles == set(role_values)
        for value in role_values.values():
            assert AppRole(value).value in staff()["roles"]

    def test_every_realm_role_is_described_in_japanese_and_english(self) -> None:
        for role in realm()["roles"]["realm"]:
            assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", role["description"]), role["name"]
            assert re.search(r"[A-Za-z]{4,}", role["description"]), role["name"]

    def test_only_municipal_system_is_vouched_for_without_a_realm_role(self) -> None:
        roles: list[str] = staff()["roles"]
        assert len(roles) == len(set(roles))
        assert {AppRole(r) for r in roles} - {AppRole(v) for v in staff()["claims"]["role_values"].values()} == {
            AppRole.MUNICIPAL_SYSTEM
        }

    def test_the_role_claim_is_a_list_of_realm_roles(self) -> None:
        (mapper,) = [m for m in token_mappers(WEB_CLIENT) if claim_of(m) == staff()["claims"]["role"]]
        assert mapper["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
        assert is_true(mapper["config"], "multivalued")
        assert not mapper["config"].get("usermodel.realmRoleMapping.rolePrefix")

    def test_the_web_client_s_tokens_carry_only_the_kizuna_roles(self) -> None:
        # With full scope the role claim would also list default-roles-kizuna-staff,
        # offline_access and uma_authorization.
        assert client(WEB_CLIENT)["fullScopeAllowed"] is False
        (mapping,) = [m for m in realm()["scopeMappings"] if m.get("client") == WEB_CLIENT]
        assert set(mapping["roles"]) == {r["name"] for r in realm()["roles"]["realm"]}


class TestClaims:
    def test_every_configured_claim_is_written_by_a_mapper_of_the_web_client(self) -> None:
        claims: dict[str, Any] = staff()["claims"]
        assert set(claims) <= CLAIM_KEYS
        written = {claim_of(m): m for m in token_mappers(WEB_CLIENT)}
        for key, name in claims.items():
            if key == "role_values":
                continue
            assert name in written, f"{key}: no mapper writes {name!r}"
            config = written[name]["config"]
            assert is_true(config, "id.token.claim"), name
            if key in ASSERTED_CLAIMS:
                assert is_true(config, "access.token.claim"), name

    def test_attribute_mappers_read_attributes_only_an_administrator_may_edit(self) -> None:
        """Keycloak 24+ drops an attribute its user profile does not declare, and a user who
        could edit their own municipality could move themselves into another tenant."""
        mappers = [m for m in client(WEB_CLIENT)["protocolMappers"] if m["protocolMapper"].endswith("attribute-mapper")]
        assert {m["config"]["claim.name"] for m in mappers} == {
            staff()["claims"]["municipality"],
            staff()["claims"]["organisation"],
        }
        for mapper in mappers:
            attribute = profile_attribute(mapper["config"]["user.attribute"])
            assert attribute["permissions"]["edit"] == ["admin"]
            assert attribute["multivalued"] is False
            assert not is_true(mapper["config"], "multivalued")
        # No unmanaged attributes: nothing outside the declared profile can be stored.
        assert "unmanagedAttributePolicy" not in user_profile()

    def test_the_user_profile_keeps_keycloak_s_own_attributes(self) -> None:
        names = {a["name"] for a in user_profile()["attributes"]}
        assert {"username", "email", "firstName", "lastName"} <= names

    @pytest.mark.parametrize(
        ("attribute", "good", "bad"),
        [
            ("kizuna_municipality", ["111007", "112011", "110001"], ["11100", "1110070", "111007 ", "１１１００７"]),
            ("kizuna_organisation", [str(uuid.uuid4())], [str(uuid.uuid4()).upper(), "not-a-uuid", ""]),
        ],
    )
    def test_the_user_profile_validates_the_attribute(self, attribute: str, good: list[str], bad: list[str]) -> None:
        # Keycloak's pattern validator calls Matcher.matches(): the whole value must match.
        pattern = re.compile(profile_attribute(attribute)["validations"]["pattern"]["pattern"])
        assert all(pattern.fullmatch(value) for value in good)
        assert not any(pattern.fullmatch(value) for value in bad)


class TestWebClient:
    def test_it_is_the_configured_confidential_code_flow_client_with_pkce(self) -> None:
        web = client(WEB_CLIENT)
        assert web["clientId"] == staff()["client_id"]
        assert (web["publicClient"], web["bearerOnly"]) == (False, False)
        assert web["standardFlowEnabled"] is True
        assert web["implicitFlowEnabled"] is False
        assert web["directAccessGrantsEnabled"] is False
        assert web["serviceAccountsEnabled"] is False
        assert web["frontchannelLogout"] is False
        assert web["attributes"]["pkce.code.challenge.method"] == "S256"

    def test_it_returns_only_to_kizuna_s_staff_callback(self) -> None:
        web = client(WEB_CLIENT)
        (redirect,) = web["redirectUris"]
        assert "*" not in redirect
        parts = urlsplit(redirect)
        assert (parts.scheme, parts.path, parts.query) == ("https", CALLBACK_PATH, "")
        logout = urlsplit(web["attributes"]["post.logout.redirect.uris"])
        assert (logout.scheme, logout.netloc, logout.path) == ("https", parts.netloc, SIGNED_OUT_PATH)
        assert web["webOrigins"] == [f"https://{parts.netloc}"]

    def test_the_scopes_kizuna_asks_for_are_scopes_of_the_client(self) -> None:
        web = client(WEB_CLIENT)
        asked = staff()["scope"].split()
        assert "openid" in asked
        # Keycloak refuses an authorization request naming a scope the client does not have.
        assert set(asked) - {"openid"} <= set(web["defaultClientScopes"]) | set(web["optionalClientScopes"])


class TestSystemClient:
    def test_it_has_service_accounts_only(self) -> None:
        system = client(SYSTEM_CLIENT)
        assert (system["publicClient"], system["bearerOnly"]) == (False, False)
        assert system["serviceAccountsEnabled"] is True
        assert system["standardFlowEnabled"] is False
        assert system["implicitFlowEnabled"] is False
        assert system["directAccessGrantsEnabled"] is False
        assert system["redirectUris"] == []

    def test_its_tokens_name_its_municipality_and_no_other(self) -> None:
        system = client(SYSTEM_CLIENT)
        assert SYSTEM_SCOPE in system["defaultClientScopes"]
        named = set(system["defaultClientScopes"]) | set(system["optionalClientScopes"])
        assert {s for s in named if s.startswith("municipality:")} == {SYSTEM_SCOPE}
        assert system["clientId"].removeprefix("kizuna-system-") == SYSTEM_SCOPE.removeprefix("municipality:")

    def test_the_municipality_scope_is_written_into_the_token_s_scope(self) -> None:
        declared = scopes()[SYSTEM_SCOPE]
        assert SCOPE_TOKEN.fullmatch(SYSTEM_SCOPE)
        assert re.fullmatch(r"municipality:[0-9]{6}", SYSTEM_SCOPE)
        assert declared["protocol"] == OIDC
        assert declared["attributes"]["include.in.token.scope"] == "true"


@pytest.mark.parametrize("client_id", [WEB_CLIENT, SYSTEM_CLIENT])
class TestEveryClient:
    def test_its_access_tokens_name_the_configured_audience(self, client_id: str) -> None:
        (mapper,) = [m for m in token_mappers(client_id) if m["protocolMapper"] == "oidc-audience-mapper"]
        config = mapper["config"]
        audience = config.get("included.custom.audience") or config.get("included.client.audience")
        assert audience == staff()["audience"]
        assert is_true(config, "access.token.claim")

    def test_its_access_tokens_carry_sub(self, client_id: str) -> None:
        # Since Keycloak 25 only the `basic` scope's mapper writes `sub` into access tokens.
        subs = [m for m in token_mappers(client_id) if m["protocolMapper"] == "oidc-sub-mapper"]
        assert any(is_true(m["config"], "access.token.claim") for m in subs)

    def test_every_scope_it_names_is_declared(self, client_id: str) -> None:
        found = client(client_id)
        assert set(found["defaultClientScopes"]) | set(found["optionalClientScopes"]) <= set(scopes())


class TestRealm:
    def test_its_security_settings(self) -> None:
        r = realm()
        assert r["realm"] == "kizuna-staff"
        assert r["bruteForceProtected"] is True
        assert r["sslRequired"] == "external"
        assert r["accessTokenLifespan"] == 5 * 60
        assert r["ssoSessionIdleTimeout"] == 30 * 60
        assert r["ssoSessionMaxLifespan"] == 8 * 60 * 60
        assert r["registrationAllowed"] is False
        assert r["resetPasswordAllowed"] is False
        assert "smtpServer" not in r
        assert r["revokeRefreshToken"] is True
        assert r["defaultSignatureAlgorithm"] in {"RS256", "ES256"}  # what kizuna.auth.tokens accepts

    def test_the_realm_defaults_are_declared_scopes(self) -> None:
        assert set(realm()["defaultDefaultClientScopes"]) | set(realm()["defaultOptionalClientScopes"]) <= set(scopes())

    def test_the_discovery_url_names_the_realm(self) -> None:
        parts = urlsplit(staff()["discovery_url"])
        assert parts.scheme == "https"
        assert parts.path == f"/realms/{realm()['realm']}/.well-known/openid-configuration"


def leaves(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every value in a parsed JSON or TOML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}/{key}", str(key), value
            yield from leaves(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, f"{path}/{index}")


class TestNoSecrets:
    def test_the_realm_holds_no_user_and_no_real_secret(self) -> None:
        assert "users" not in realm()
        for path, key, value in leaves(realm()):
            if re.search(r"(secret|password|credentials?)$", key, re.IGNORECASE) and isinstance(value, str):
                assert key == "passwordPolicy" or value == PLACEHOLDER, path
            if isinstance(value, str):
                # A generated Keycloak secret is 32 letters and digits in a row.
                assert not re.search(r"[A-Za-z0-9]{24,}", value), path

    def test_the_issuer_file_holds_no_secret(self) -> None:
        for path, key, _ in leaves(issuers()):
            assert "secret" not in key.lower(), path


def readme_toml() -> list[str]:
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    blocks: list[str] = re.findall(r"```toml\n(.*?)```", readme, re.DOTALL)
    return blocks


def issuer_tables() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every issuer of kizuna-idp.toml and of the TOML examples in the README."""
    yield from issuers().items()
    for block in readme_toml():
        yield from tomllib.loads(block).get("issuers", {}).items()


def test_every_issuer_is_well_formed() -> None:
    seen = list(issuer_tables())
    assert {name for name, _ in seen} >= {"staff", "school"}
    for name, table in seen:
        assert ISSUER_NAME.fullmatch(name), name
        assert set(table) <= ISSUER_KEYS, name
        roles = {AppRole(r) for r in table["roles"]}
        claims = table.get("claims", {})
        assert set(claims) <= CLAIM_KEYS, name
        assert {AppRole(v) for v in claims.get("role_values", {}).values()} <= roles, name
        assert "openid" in table["scope"].split(), name


def test_kizuna_s_loader_reads_what_keycloak_writes_into_a_caseworker_s_token() -> None:
    """The claims are named from the realm's mappers, the mapping from the issuer file."""
    (config,) = load_issuers(FOLDER / "kizuna-idp.toml", {"KIZUNA_IDP_STAFF_CLIENT_SECRET": "from-the-environment"})
    assert (config.name, config.client_id, config.client_secret) == ("staff", WEB_CLIENT, "from-the-environment")
    mappers = {m["config"].get("user.attribute") or m["protocolMapper"]: claim_of(m) for m in token_mappers(WEB_CLIENT)}
    organisation = uuid.uuid4()
    claims = {
        "sub": str(uuid.uuid4()),
        str(mappers["oidc-usermodel-realm-role-mapper"]): ["kizuna-caseworker"],
        str(mappers["kizuna_municipality"]): "111007",
        str(mappers["kizuna_organisation"]): str(organisation),
        str(mappers["oidc-full-name-mapper"]): "花子 田中",
    }
    assert config.claims.assertion(claims) == Assertion(
        roles=frozenset({AppRole.CASEWORKER}), municipality_code="111007", organisation_id=organisation
    )
    assert config.claims.display_name_of(claims) == "花子 田中"


def test_kizuna_s_loader_accepts_the_readme_s_examples(tmp_path: Path) -> None:
    for index, block in enumerate(readme_toml()):
        path = tmp_path / f"example-{index}.toml"
        path.write_text(block, encoding="utf-8")
        assert load_issuers(path, {})
