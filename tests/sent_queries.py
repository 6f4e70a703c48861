"""The queries the tests send, kept for the compiled path's differential test
(tests/test_compiled.py), which replays them all after every other test.

A module of its own: under `--import-mode=importlib` pytest's conftest is another module
than `kizuna.tests.conftest`, and both must see the same record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from graphql import DocumentNode, ExecutionResult, OperationType, get_operation_ast

from kizuna.platform.caller import Caller

SENT: dict[tuple[str, bytes, str | None, Caller], None] = {}
"""(document, variables as JSON, operation, caller) of every query executed, once each."""

Execute = Callable[..., Awaitable[ExecutionResult]]


def recording(execute: Execute) -> Execute:
    """`Executor.execute`, keeping each query it runs (the servers the tests start in this
    process included) in `SENT`."""

    async def execute_and_record(
        self: Any,
        document: DocumentNode,
        *,
        context: Any,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> ExecutionResult:
        operation = get_operation_ast(document, operation_name)
        caller = getattr(context, "caller", None)
        if operation is not None and operation.operation is OperationType.QUERY and document.loc and caller:
            sent = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
            SENT.setdefault((document.loc.source.body, sent, operation_name, caller), None)
        return await execute(self, document, context=context, variables=variables, operation_name=operation_name)

    return execute_and_record
