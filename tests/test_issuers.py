"""The issuer configuration, claim mapping and the choice of membership: each rule, and
the ways an attacker would try to bend it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from joserfc.jwk import RSAKey

from kizuna.auth.identity import Identity
from kizuna.auth.issuers import Assertion, ClaimMapping, IssuerConfigError, load_issuers
from kizuna.auth.jwks import StaticKeys
from kizuna.auth.memberships import Account, Forbidden, choose
from kizuna.auth.tokens import TrustedIssuer
from kizuna.platform.caller import Membership
from kizuna.platform.vocabulary import AppRole

SAITAMA_CITY, KAWAGOE, PREFECTURE = "111007", "112011", "110001"
ORG, OTHER_ORG = uuid.uuid4(), uuid.uuid4()
CONFIG = """
[issuers.staff]
discovery_url = "https://idp.example.lg.jp/realms/staff/.well-known/openid-configuration"
client_id = "kizuna"
audience = "kizuna"
roles = ["caseworker", "supervisor", "platform_admin", "municipal_system"]

[issuers.staff.claims]
role = "realm_access.roles"
municipality = "kizuna_municipality"

[issuers.staff.claims.role_values]
"kizuna-caseworker" = "caseworker"
"kizuna-supervisor" = "supervisor"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "idp.toml"
    path.write_text(text, encoding="utf-8")
    return path


class TestLoading:
    def test_file_and_environment(self, tmp_path: Path) -> None:
        environ = {"KIZUNA_IDP_STAFF_CLIENT_SECRET": "s3cret", "KIZUNA_IDPS": "school"}
        environ |= {
            "KIZUNA_IDP_SCHOOL_DISCOVERY_URL": "https://school.example/.well-known/openid-configuration",
            "KIZUNA_IDP_SCHOOL_CLIENT_ID": "kizuna-school",
            "KIZUNA_IDP_SCHOOL_AUDIENCE": "kizuna",
            "KIZUNA_IDP_SCHOOL_ROLES": "school_staff, school_social_worker",
        }
        school, staff = load_issuers(write(tmp_path, CONFIG), environ)
        assert staff.client_secret == "s3cret"
        assert staff.claims.role_values["kizuna-caseworker"] is AppRole.CASEWORKER
        assert school.roles == {AppRole.SCHOOL_STAFF, AppRole.SCHOOL_SOCIAL_WORKER}
        assert staff.jwks_refetch_seconds == 60
        tuned = load_issuers(write(tmp_path, CONFIG), {"KIZUNA_IDP_STAFF_JWKS_REFETCH_SECONDS": "300"})
        assert tuned[0].jwks_refetch_seconds == 300

    def test_nothing_configured(self) -> None:
        assert load_issuers(None, {}) == ()

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (("https://idp.example.lg.jp", "http://idp.example.lg.jp"), "https"),
            (("https://idp.example.lg.jp", "http://127.0.0.1.evil.example"), "https"),
            (('"platform_admin"', '"root"'), "root"),
            (('client_id = "kizuna"\n', ""), "client_id"),
            (("[issuers.staff]", "[issuers.Staff_1]"), "issuer name"),
            (('audience = "kizuna"', 'audience = "kizuna"\njwks_refetch_seconds = 0'), "jwks_refetch_seconds"),
            (('"kizuna-supervisor" = "supervisor"', '"kizuna-supervisor" = "superuser"'), "superuser"),
        ],
    )
    def test_refused(self, tmp_path: Path, change: tuple[str, str], message: str) -> None:
        with pytest.raises(IssuerConfigError, match=message):
            load_issuers(write(tmp_path, CONFIG.replace(*change)), {})

    def test_unreadable_toml(self, tmp_path: Path) -> None:
        with pytest.raises(IssuerConfigError, match="KIZUNA_IDP_FILE"):
            load_issuers(write(tmp_path, "[issuers.staff"), {})


class TestClaimMapping:
    mapping = ClaimMapping(
        role="realm_access.roles",
        municipality="kizuna_municipality",
        organisation="kizuna_organisation",
        role_values={"kizuna-caseworker": AppRole.CASEWORKER},
    )

    def test_nested_roles_and_unmapped_values(self) -> None:
        claims = {"realm_access": {"roles": ["offline_access", "kizuna-caseworker"]}, "kizuna_municipality": KAWAGOE}
        assert self.mapping.assertion(claims) == Assertion(frozenset({AppRole.CASEWORKER}), KAWAGOE, None)

    @pytest.mark.parametrize(
        "claims",
        [
            {"kizuna_municipality": "11100"},
            {"kizuna_municipality": 111007},
            {"kizuna_organisation": "not-a-uuid"},
            {"realm_access": {"roles": [1, 2]}},
            {"realm_access": {"roles": {"a": 1}}},
        ],
    )
    def test_malformed_claims(self, claims: dict[str, object]) -> None:
        with pytest.raises(ValueError):  # noqa: PT011  (a token with them is refused as a whole)
            self.mapping.assertion(claims)


KEYS = StaticKeys({"keys": [RSAKey.generate_key(2048, auto_kid=True).as_dict(private=False)]})


def trusted(roles: frozenset[AppRole] = frozenset(AppRole)) -> TrustedIssuer:
    return TrustedIssuer("staff", "https://idp.example/", "kizuna", KEYS, roles, ClaimMapping())


def identity(assertion: Assertion = Assertion(), scopes: frozenset[str] = frozenset()) -> Identity:  # noqa: B008
    return Identity("https://idp.example/", "someone", assertion, scopes)


def account(*memberships: Membership) -> Account:
    return Account(uuid.uuid4(), memberships)


class TestChoice:
    def test_one_membership_needs_no_header(self) -> None:
        chosen = choose(
            identity(), trusted(), account(Membership(SAITAMA_CITY, AppRole.CASEWORKER, ORG)), municipality=None
        )
        assert (chosen.municipality_code, chosen.role, chosen.organisation_id) == (
            SAITAMA_CITY,
            AppRole.CASEWORKER,
            ORG,
        )

    def test_token_for_one_municipality_with_another_in_the_header(self) -> None:
        """The IdP says 111007; the request asks for 112011, where a membership exists too."""
        held = account(
            Membership(SAITAMA_CITY, AppRole.CASEWORKER, ORG), Membership(KAWAGOE, AppRole.CASEWORKER, OTHER_ORG)
        )
        with pytest.raises(Forbidden, match="another municipality"):
            choose(identity(Assertion(municipality_code=SAITAMA_CITY)), trusted(), held, municipality=KAWAGOE)

    def test_claims_narrow_what_the_database_holds(self) -> None:
        held = account(Membership(SAITAMA_CITY, AppRole.SUPERVISOR, ORG))
        with pytest.raises(Forbidden):
            choose(identity(Assertion(roles=frozenset({AppRole.CASEWORKER}))), trusted(), held, municipality=None)
        with pytest.raises(Forbidden):
            choose(identity(Assertion(organisation_id=OTHER_ORG)), trusted(), held, municipality=None)

    @pytest.mark.parametrize("claim", [None, [], ["offline_access"]], ids=["absent", "empty", "unmapped"])
    def test_a_role_claim_naming_no_kizuna_role_opens_no_persons_membership(self, claim: list[str] | None) -> None:
        """An IdP administrator offboards someone by removing their last Kizuna role: the
        token then names none, and must not fall back to every membership held."""
        mapping = ClaimMapping(role="kizuna_roles", role_values={"kizuna-caseworker": AppRole.CASEWORKER})
        assertion = mapping.assertion({} if claim is None else {"kizuna_roles": claim})
        assert assertion.roles == frozenset()
        held = account(
            Membership(SAITAMA_CITY, AppRole.CASEWORKER, ORG), Membership(SAITAMA_CITY, AppRole.SUPERVISOR, ORG)
        )
        with pytest.raises(Forbidden):
            choose(identity(assertion), trusted(), held, municipality=None)
        system = account(Membership(SAITAMA_CITY, AppRole.MUNICIPAL_SYSTEM, ORG))
        scoped = identity(assertion, frozenset({f"municipality:{SAITAMA_CITY}"}))
        assert choose(scoped, trusted(), system, municipality=None).role is AppRole.MUNICIPAL_SYSTEM

    def test_an_issuer_vouches_only_for_its_roles(self) -> None:
        """A school IdP's user holding a supervisor membership cannot use it through that IdP."""
        school = trusted(frozenset({AppRole.SCHOOL_STAFF}))
        with pytest.raises(Forbidden):
            choose(identity(), school, account(Membership(SAITAMA_CITY, AppRole.SUPERVISOR, ORG)), municipality=None)

    def test_several_municipalities_must_be_named(self) -> None:
        held = account(Membership(SAITAMA_CITY, AppRole.CASEWORKER, ORG), Membership(KAWAGOE, AppRole.CASEWORKER, ORG))
        with pytest.raises(Forbidden, match="Kizuna-Municipality"):
            choose(identity(), trusted(), held, municipality=None)
        assert choose(identity(), trusted(), held, municipality=KAWAGOE).municipality_code == KAWAGOE

    def test_several_roles_must_be_named(self) -> None:
        held = account(
            Membership(SAITAMA_CITY, AppRole.CASEWORKER, ORG), Membership(SAITAMA_CITY, AppRole.COORDINATOR, ORG)
        )
        with pytest.raises(Forbidden, match="Kizuna-Role"):
            choose(identity(), trusted(), held, municipality=None)
        assert (
            choose(identity(), trusted(), held, municipality=None, role=AppRole.COORDINATOR).role is AppRole.COORDINATOR
        )

    def test_platform_admin_serves_its_prefecture_only(self) -> None:
        held = account(Membership(PREFECTURE, AppRole.PLATFORM_ADMIN, ORG))
        assert choose(identity(), trusted(), held, municipality=KAWAGOE).municipality_code == KAWAGOE
        with pytest.raises(Forbidden):
            choose(identity(), trusted(), held, municipality="392014")
        with pytest.raises(Forbidden, match="No such municipality"):
            choose(identity(), trusted(), held, municipality="119999")

    def test_municipal_system_needs_the_scope_of_the_municipality(self) -> None:
        held = account(Membership(SAITAMA_CITY, AppRole.MUNICIPAL_SYSTEM, ORG))
        with pytest.raises(Forbidden, match="scope"):
            choose(identity(scopes=frozenset({f"municipality:{KAWAGOE}"})), trusted(), held, municipality=None)
        scoped = identity(scopes=frozenset({f"municipality:{SAITAMA_CITY}"}))
        assert choose(scoped, trusted(), held, municipality=None).role is AppRole.MUNICIPAL_SYSTEM

    def test_unknown_user(self) -> None:
        with pytest.raises(Forbidden):
            choose(identity(), trusted(), Account(None, ()), municipality=None)
