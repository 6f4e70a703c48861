"""`node(id:)`: each registered Node type's own resolver, in the tenant's transaction."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from kizuna.platform.scope import Scope
from kizuna.schema.errors import not_found
from kizuna.schema.relay import Node, decode_global_id, node_type


@strawberry.type
class NodeQueries:
    @strawberry.field(description="グローバルIDで任意のオブジェクトを取得する（Relay）")
    async def node(self, info: Info[Scope, Any], id: strawberry.ID) -> Node | None:  # noqa: A002
        type_name, key = decode_global_id(id)
        registered = node_type(type_name)
        node = None if registered is None else await registered.resolve(info.context, key)
        if node is None:
            raise not_found()
        return node  # type: ignore[no-any-return]
