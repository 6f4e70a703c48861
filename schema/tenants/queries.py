"""`viewer`, `municipalities` and `municipality(code:)`."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.vocabulary import OrganisationKind
from kizuna.schema.context import Context
from kizuna.schema.relay import encode_global_id
from kizuna.schema.tenants import service
from kizuna.schema.tenants.types import Municipality, Organization, Viewer


@strawberry.type
class TenantQueries:
    @strawberry.field(description="サインインしている利用者")
    async def viewer(self, info: Info[Context, Any]) -> Viewer:
        ctx = info.context
        principal = ctx.principal
        orgs = await service.organisations_by_id(ctx.tx, [principal.organisation_id])
        row = orgs.get(principal.organisation_id)
        government = service.registry_entry(ctx.prefecture_code, principal.municipality_code)
        if government is None:  # the membership check passed, so the tenant is registered
            raise LookupError(principal.municipality_code)
        return Viewer(
            subject=principal.subject,
            role=principal.role,
            municipality=Municipality.from_registry(government),
            organization=None
            if row is None
            else Organization(
                id=strawberry.ID(encode_global_id("Organization", row["id"])),
                name=row["name"],
                kind=OrganisationKind(row["kind"]),
            ),
        )

    @strawberry.field(description="この環境の県と市町村（県そのものを含む）")
    def municipalities(self, info: Info[Context, Any]) -> list[Municipality]:
        return [Municipality.from_registry(g) for g in service.deployment_registry(info.context.prefecture_code)]

    @strawberry.field(description="コードで指定した地方公共団体")
    def municipality(self, info: Info[Context, Any], code: str) -> Municipality | None:
        government = service.registry_entry(info.context.prefecture_code, code)
        return None if government is None else Municipality.from_registry(government)
