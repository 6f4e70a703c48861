"""The demo users: one per role and tenant, the same ids on every run.

Derived from the registry alone, with no database and none of the seeding code, so that
`kizuna dev-token` and `kizuna dev-client` find a demo user at once. `kizuna.tenants.demo`
provisions exactly these users and memberships when it seeds.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from kizuna.platform.vocabulary import AppRole
from kizuna.tenants.registry import SUPPORTED_PREFECTURES, LocalGovernment, for_prefecture

NAMESPACE: Final = uuid.UUID("0b6f1c52-8d0e-4a43-9a3e-6b1f4e0d7c21")
"""Names the deterministic user, organisation and membership ids (uuid5)."""
MUNICIPAL_ROLES: Final = tuple(r for r in AppRole if r not in (AppRole.PREFECTURE_ANALYST, AppRole.PLATFORM_ADMIN))
PREFECTURE_ROLES: Final = (AppRole.PREFECTURE_ANALYST, AppRole.PLATFORM_ADMIN)
STAFF_FAMILY: Final = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田")
STAFF_GIVEN: Final = ("美咲", "健太", "陽子", "大輔", "真由美", "翔太", "恵子", "拓也", "直子", "誠", "由美", "亮")


@dataclass(frozen=True)
class DemoUser:
    """One per role per seeded tenant."""

    subject: str
    display_name: str
    role: AppRole
    municipality_code: str
    organisation_id: uuid.UUID

    @property
    def user_id(self) -> uuid.UUID:
        """Kizuna's id for the user, the same in every run."""
        return uuid.uuid5(NAMESPACE, f"user/{self.subject}")


def organisation_id(code: str, key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"organisation/{code}/{key}")


def selected(prefecture: str, municipalities: Sequence[str] | None) -> tuple[LocalGovernment, ...]:
    """The prefecture's local governments, or only `municipalities` of them."""
    if prefecture not in SUPPORTED_PREFECTURES:
        raise ValueError(f"unknown prefecture {prefecture!r}; supported: {', '.join(SUPPORTED_PREFECTURES)}")
    governments = for_prefecture(prefecture)
    if municipalities is None:
        return governments
    unknown = set(municipalities) - {g.code for g in governments}
    if unknown:
        raise ValueError(f"not local governments of prefecture {prefecture}: {', '.join(sorted(unknown))}")
    return tuple(g for g in governments if g.code in set(municipalities))


def _user_organisation(government: LocalGovernment, role: AppRole) -> uuid.UUID:
    key = {
        AppRole.SCHOOL_STAFF: "junior_high_school/0",
        AppRole.SCHOOL_SOCIAL_WORKER: "education",
        AppRole.WELFARE_WORKER: "community/0",
        AppRole.MUNICIPAL_SYSTEM: "information",
        AppRole.PREFECTURE_ANALYST: "care",
        AppRole.PLATFORM_ADMIN: "digital",
    }.get(role, "department")
    return organisation_id(government.code, key)


def _display_name(government: LocalGovernment, role: AppRole) -> str:
    """A stable name, different for each role of a tenant."""
    if role is AppRole.MUNICIPAL_SYSTEM:
        return "市町村システム連携（デモ）"
    key, index = int(government.code[:5]), list(AppRole).index(role)
    return f"{STAFF_FAMILY[(key + index) % len(STAFF_FAMILY)]} {STAFF_GIVEN[(key * 7 + index * 5) % len(STAFF_GIVEN)]}"


def demo_users(prefecture: str, municipalities: Sequence[str] | None = None) -> tuple[DemoUser, ...]:
    """The demo users `seed_demo` provisions (same ids, no database needed): the prefecture
    tenant gets the prefecture analyst and the platform administrator, every municipality
    the other seven roles."""
    users: list[DemoUser] = []
    for government in selected(prefecture, municipalities):
        for role in PREFECTURE_ROLES if government.is_prefecture else MUNICIPAL_ROLES:
            subject = f"demo:{role.value}:{government.code}"
            organisation = _user_organisation(government, role)
            users.append(DemoUser(subject, _display_name(government, role), role, government.code, organisation))
    return tuple(users)


def find(prefecture: str, role: AppRole, municipality_code: str) -> DemoUser | None:
    """The demo user of `role` in `municipality_code`, if the prefecture has one."""
    return next(
        (u for u in demo_users(prefecture) if u.role is role and u.municipality_code == municipality_code), None
    )


def membership_id(user: DemoUser) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"membership/{user.municipality_code}/{user.role.value}")
