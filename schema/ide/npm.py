"""GraphiQL from npm, installed into the data directory by `kizuna graphiql install`.

`graphiql/package.json` and `graphiql/package-lock.json` (shipped with the package) pin
GraphiQL's browser build and React with their integrity hashes; `npm ci` installs exactly
those, so no GraphiQL code is kept in the repository and none is fetched by a browser.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent / "graphiql"
PACKAGE_FILES = ("package.json", "package-lock.json")
# Written into node_modules after a successful `npm ci`: the digest of the files it installed
# from. `npm ci` empties node_modules first, so a failed or changed install has no marker.
MARKER = ".kizuna-package-lock.sha256"
NPM_CI_TIMEOUT = 600.0
INSTALL_COMMAND = "uv run kizuna graphiql install"


class InstallError(Exception):
    """GraphiQL could not be installed; the message says why and what to do."""


def graphiql_dir(data_dir: Path) -> Path:
    """Where the data directory keeps GraphiQL (its `node_modules` and the lock it came from)."""
    return data_dir / "graphiql"


def lock_digest() -> str:
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        digest.update((PACKAGE_DIR / name).read_bytes())
    return digest.hexdigest()


def is_installed(target: Path) -> bool:
    """Whether `target` holds the GraphiQL that this version of Kizuna pins."""
    try:
        return (target / "node_modules" / MARKER).read_text().strip() == lock_digest()
    except (FileNotFoundError, NotADirectoryError):
        return False


def install(target: Path) -> bool:
    """`npm ci` of the pinned GraphiQL into `target`; False when it was there already.

    Install scripts are not run (`--ignore-scripts`): the packages are browser files and
    need none. An exclusive lock keeps two installs into one directory from mixing.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError(
            "npm was not found. GraphiQL comes from npm: install Node.js and npm "
            f"(Debian: apt-get install nodejs npm), then run `{INSTALL_COMMAND}` again. "
            "Until then /graphql offers Kizuna's own query page."
        )
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".install.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_installed(target):
            return False
        for name in PACKAGE_FILES:
            shutil.copyfile(PACKAGE_DIR / name, target / name)
        command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--no-update-notifier"]
        try:
            result = subprocess.run(  # noqa: S603  (npm from PATH, fixed arguments)
                command, cwd=target, capture_output=True, text=True, timeout=NPM_CI_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise InstallError(
                f"`npm ci` in {target} took over {NPM_CI_TIMEOUT:.0f} s; is the registry reachable?"
            ) from None
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip()
            raise InstallError(f"`npm ci` in {target} failed (exit {result.returncode}):\n{output}")
        (target / "node_modules" / MARKER).write_text(lock_digest() + "\n")
        return True
