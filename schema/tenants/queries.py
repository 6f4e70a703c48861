"""`viewer`, `municipalities` and `municipality(code:)`."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.vocabulary import OrganisationKind
from kizuna.schema.context import Context
from kizuna.schema.relay import encode_global_id
from kizuna.schema.tenants import service
from kizuna.schema.tenants.types import Municipality, Organization, Viewer, ViewerMembership


@strawberry.type
class TenantQueries:
    @strawberry.field(description="サインインしている利用者")
    async def viewer(self, info: Info[Context, Any]) -> Viewer:
        ctx = info.context
        principal = ctx.principal
        # The organisations of every membership in one statement (a global table).
        wanted = [principal.organisation_id, *(m.organisation_id for m in principal.memberships)]
        orgs = await service.organisations_by_id(ctx.tx, wanted)

        def organisation(organisation_id: uuid.UUID) -> Organization | None:
            row = orgs.get(organisation_id)
            if row is None:
                return None
            return Organization(
                id=strawberry.ID(encode_global_id("Organization", row["id"])),
                name=row["name"],
                kind=OrganisationKind(row["kind"]),
            )

        def municipality(code: str) -> Municipality:
            government = service.registry_entry(ctx.prefecture_code, code)
            if government is None:  # a membership exists, so the tenant is registered
                raise LookupError(code)
            return Municipality.from_registry(government)

        return Viewer(
            subject=principal.subject,
            issuer=principal.issuer,
            role=principal.role,
            municipality=municipality(principal.municipality_code),
            organization=organisation(principal.organisation_id),
            memberships=[
                ViewerMembership(
                    municipality=municipality(m.municipality_code),
                    role=m.role,
                    organization=organisation(m.organisation_id),
                )
                for m in principal.memberships
            ],
        )

    @strawberry.field(description="この環境の県と市町村（県そのものを含む）")
    def municipalities(self, info: Info[Context, Any]) -> list[Municipality]:
        return [Municipality.from_registry(g) for g in service.deployment_registry(info.context.prefecture_code)]

    @strawberry.field(description="コードで指定した地方公共団体")
    def municipality(self, info: Info[Context, Any], code: str) -> Municipality | None:
        government = service.registry_entry(info.context.prefecture_code, code)
        return None if government is None else Municipality.from_registry(government)
