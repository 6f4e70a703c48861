"""Files only this user may read, kept in the data directory (signing keys, secrets)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, create: Callable[[], str]) -> str:
    """The text of `path`, written first from `create()` when there is none: created
    0600 and exclusively, so it is never readable by others and never overwritten."""
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = create()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    return text
