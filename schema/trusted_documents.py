"""Trusted documents (issue 18, item 5): the documents clients run by their hash.

A document is registered only if it parses and validates against the schema with the
production rules (no introspection), as `kizuna documents register` checks.
"""

from __future__ import annotations

from kizuna.schema.execution import Executor


def registration_problems(executor: Executor, text: str) -> list[str]:
    """Why `text` may not be registered: its parse or validation errors against the schema,
    with `executor`'s rules (made without introspection, as production runs)."""
    prepared = executor.parse_and_validate(text)
    if prepared.document is None or prepared.errors:
        return [error.message for error in prepared.errors]
    return []
