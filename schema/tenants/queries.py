"""`viewer`, `municipalities` and `municipality(code:)`."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.platform.settings import Settings
from kizuna.platform.vocabulary import OrganisationKind
from kizuna.schema.cost import ListSize
from kizuna.schema.relay import register_node
from kizuna.schema.tenants import service
from kizuna.schema.tenants.types import MOST_MUNICIPALITIES, Municipality, Organization, Viewer, ViewerMembership

ORGANISATIONS_ASSUMED = 500


@strawberry.type
class TenantQueries:
    @strawberry.field(description="サインインしている利用者")
    async def viewer(self, info: Info[Scope, Any]) -> Viewer | None:
        scope = info.context
        caller = scope.caller
        # The organisations of every membership in one statement (a global table).
        wanted = [caller.organisation_id, *(m.organisation_id for m in caller.memberships)]
        orgs = await service.organisations_by_id(scope.tx, wanted)

        def organisation(organisation_id: uuid.UUID) -> Organization | None:
            row = orgs.get(organisation_id)
            return None if row is None else Organization.of(row["id"], row["name"], row["kind"])

        def municipality(code: str) -> Municipality:
            government = service.registry_entry(scope.get(Settings).prefecture, code)
            if government is None:  # a membership exists, so the tenant is registered
                raise LookupError(code)
            return Municipality.from_registry(government)

        return Viewer(
            subject=caller.subject,
            issuer=caller.issuer,
            role=caller.role,
            municipality=municipality(caller.municipality_code),
            organization=organisation(caller.organisation_id),
            memberships=[
                ViewerMembership(
                    municipality=municipality(m.municipality_code),
                    role=m.role,
                    organization=organisation(m.organisation_id),
                )
                for m in caller.memberships
            ],
        )

    @strawberry.field(
        description="機関の名簿：その団体を担当する学校・関係機関・部署（個人は含まない）",
        # Not capped: an estimate (a city's schools, agencies and departments).
        directives=[ListSize(assumed_size=ORGANISATIONS_ASSUMED)],
    )
    async def organizations(
        self, info: Info[Scope, Any], municipality_code: str, kind: OrganisationKind | None = None
    ) -> list[Organization] | None:
        scope = info.context
        if service.registry_entry(scope.get(Settings).prefecture, municipality_code) is None:
            return []
        rows = await service.organisations_serving(scope.tx, municipality_code, None if kind is None else kind.value)
        return [Organization.of(row["id"], row["name"], row["kind"]) for row in rows]

    @strawberry.field(
        description="この環境の県と市町村（県そのものを含む）", directives=[ListSize(assumed_size=MOST_MUNICIPALITIES)]
    )
    def municipalities(self, info: Info[Scope, Any]) -> list[Municipality] | None:
        return [
            Municipality.from_registry(g) for g in service.deployment_registry(info.context.get(Settings).prefecture)
        ]

    @strawberry.field(description="コードで指定した地方公共団体")
    def municipality(self, info: Info[Scope, Any], code: str) -> Municipality | None:
        government = service.registry_entry(info.context.get(Settings).prefecture, code)
        return None if government is None else Municipality.from_registry(government)


async def _organization_node(scope: Scope, key: uuid.UUID) -> Organization | None:
    """The organisation directory is global: every tenant reads it, by design."""
    row = (await service.organisations_by_id(scope.tx, [key])).get(key)
    return None if row is None else Organization.of(row["id"], row["name"], row["kind"])


register_node("Organization", tag=4, graphql_type=Organization, table=None, resolve=_organization_node)
