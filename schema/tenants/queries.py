"""`viewer`, `municipalities` and `municipality(code:)`."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.vocabulary import OrganisationKind
from kizuna.schema.context import Context
from kizuna.schema.tenants import service
from kizuna.schema.tenants.types import Municipality, Organization, Viewer, ViewerMembership


@strawberry.type
class TenantQueries:
    @strawberry.field(description="サインインしている利用者")
    async def viewer(self, info: Info[Context, Any]) -> Viewer | None:
        ctx = info.context
        principal = ctx.principal
        # The organisations of every membership in one statement (a global table).
        wanted = [principal.organisation_id, *(m.organisation_id for m in principal.memberships)]
        orgs = await service.organisations_by_id(ctx.tx, wanted)

        def organisation(organisation_id: uuid.UUID) -> Organization | None:
            row = orgs.get(organisation_id)
            return None if row is None else Organization.of(row["id"], row["name"], row["kind"])

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

    @strawberry.field(description="機関の名簿：その団体を担当する学校・関係機関・部署（個人は含まない）")
    async def organizations(
        self, info: Info[Context, Any], municipality_code: str, kind: OrganisationKind | None = None
    ) -> list[Organization] | None:
        ctx = info.context
        if service.registry_entry(ctx.prefecture_code, municipality_code) is None:
            return []
        rows = await service.organisations_serving(ctx.tx, municipality_code, None if kind is None else kind.value)
        return [Organization.of(row["id"], row["name"], row["kind"]) for row in rows]

    @strawberry.field(description="この環境の県と市町村（県そのものを含む）")
    def municipalities(self, info: Info[Context, Any]) -> list[Municipality] | None:
        return [Municipality.from_registry(g) for g in service.deployment_registry(info.context.prefecture_code)]

    @strawberry.field(description="コードで指定した地方公共団体")
    def municipality(self, info: Info[Context, Any], code: str) -> Municipality | None:
        government = service.registry_entry(info.context.prefecture_code, code)
        return None if government is None else Municipality.from_registry(government)
