"""The schema: `Query` composed from the per-domain query classes."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from kizuna.schema.cases.queries import CaseQueries
from kizuna.schema.cases.types import Case, Person
from kizuna.schema.node import NodeQueries
from kizuna.schema.referrals.queries import ReferralQueries
from kizuna.schema.referrals.types import Referral
from kizuna.schema.tenants.queries import TenantQueries
from kizuna.schema.tenants.types import Organization

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000


@strawberry.type
class Query(TenantQueries, CaseQueries, ReferralQueries, NodeQueries):
    pass


class KizunaSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Coded errors are answers, not failures, and unexpected ones are logged once, with
        the request id, by schema/http.py: strawberry's own stack-trace logging is off."""


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    rules: list[type[ASTValidationRule]] = [] if introspection else [NoSchemaIntrospectionCustomRule]
    return KizunaSchema(
        query=Query,
        types=[Case, Person, Referral, Organization],
        config=StrawberryConfig(auto_camel_case=True),
        extensions=[
            # Factories: strawberry builds fresh extensions per request; the caches
            # themselves live at module level and are shared.
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: AddValidationRules(rules),
        ],
    )
