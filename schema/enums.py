"""GraphQL enums from the domain vocabulary, with the Japanese labels as descriptions."""

from __future__ import annotations

from typing import TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from kizuna.platform import vocabulary as v

E = TypeVar("E", bound=v.LabelledEnum)


def graphql_enum(enum_cls: type[E], description: str) -> None:
    """Make a vocabulary enum a GraphQL enum: member names as values, labels as descriptions."""
    strawberry.enum(enum_cls, description=description)
    definition: StrawberryEnumDefinition = enum_cls.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = enum_cls(value.value).label


graphql_enum(v.AppRole, "利用者の役割")
graphql_enum(v.CaseStage, "ケースの段階（相談受理 → … → 終結）")
graphql_enum(v.CarerCategory, "ケアラーの区分")
graphql_enum(v.ReferralSource, "気づき・相談の経路")
graphql_enum(v.ReferralStatus, "気づき・相談の状況")
graphql_enum(v.Urgency, "緊急度")
graphql_enum(v.OrganisationKind, "機関の種別")

# The same classes, re-exported so that types import them from the schema package.
AppRole = v.AppRole
CaseStage = v.CaseStage
CarerCategory = v.CarerCategory
ReferralSource = v.ReferralSource
ReferralStatus = v.ReferralStatus
Urgency = v.Urgency
OrganisationKind = v.OrganisationKind
