"""Tenants, organisations and the signed-in viewer."""

from __future__ import annotations

import uuid

import strawberry

from kizuna.schema.cost import ListSize, ObjectCost
from kizuna.schema.enums import AppRole, MunicipalityKind, OrganisationKind
from kizuna.schema.relay import Node, encode_global_id, global_id_in_row
from kizuna.schema.rows import Nested, Present, RowShape, column, member
from kizuna.tenants.registry import LocalGovernment

# 北海道: 179 municipalities and the prefecture itself, the most a deployment serves.
MOST_MUNICIPALITIES = 180


# An entry of the registry in memory: nothing is read for it.
@strawberry.type(description="地方公共団体（市町村、または県そのもの）", directives=[ObjectCost(weight=0)])
class Municipality:
    code: str = strawberry.field(description="全国地方公共団体コード（6桁、検査数字付き）")
    name: str
    name_kana: str
    kind: MunicipalityKind
    prefecture_code: str

    @classmethod
    def from_registry(cls, government: LocalGovernment) -> Municipality:
        return cls(
            code=government.code,
            name=government.name,
            name_kana=government.name_kana,
            kind=government.kind,
            prefecture_code=government.prefecture_code,
        )


@strawberry.type(description="機関（学校、地域包括支援センター、社会福祉協議会など）")
class Organization(Node):
    name: str
    kind: OrganisationKind

    @classmethod
    def of(cls, organisation_id: uuid.UUID, name: str, kind: str) -> Organization:
        """From a directory row's id, name and kind (as the database spells it)."""
        return cls(
            id=organization_id(organisation_id),
            name=name,
            kind=OrganisationKind(kind),
        )


def organization_id(key: uuid.UUID) -> strawberry.ID:
    """An organisation's global id. Not cached: hashing the key for a cache (asyncpg's UUID
    hashes its 128-bit integer, made anew for every row) costs more than the encoding."""
    return strawberry.ID(encode_global_id("Organization", key))


def organization_in_row(id_column: str, name_column: str, kind_column: str) -> Nested:
    """An organisation read from another object's row (its directory id, name and kind,
    as `Organization.of` takes them); none where the id is null."""
    shape = RowShape(
        Organization,
        {
            "id": global_id_in_row("Organization", id_column),
            "name": column(name_column),
            "kind": member(OrganisationKind, kind_column),
        },
    )
    return Nested(shape, present=Present(id_column))


@strawberry.type(description="利用者が選べる所属（Kizuna-Municipality・Kizuna-Role ヘッダーで選ぶ）")
class ViewerMembership:
    municipality: Municipality
    role: AppRole
    organization: Organization | None


VIEWER_MEMBERSHIPS_ASSUMED = 20


@strawberry.type(description="サインインしている利用者")
class Viewer:
    subject: str
    issuer: str = strawberry.field(description="利用者を認証したIdP（iss）")
    role: AppRole
    municipality: Municipality
    organization: Organization | None
    memberships: list[ViewerMembership] = strawberry.field(
        description="この利用者が働ける団体・役割・機関（いま使っているものを含む）",
        directives=[ListSize(assumed_size=VIEWER_MEMBERSHIPS_ASSUMED)],  # not capped: an estimate
    )
