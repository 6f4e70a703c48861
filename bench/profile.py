"""Where the server's time goes under load: py-spy samples `kizuna serve` while wrk sends a
page, and the samples are summed by component.

Not a test: it prints the table (and writes it to bench/results/). The load is the anchors'
(wrk, 2 threads, 32 connections, the page of bench/anchor_target.py), one worker; py-spy
reads the server's stacks from outside (`--nonblocking`: the server is never paused).

    uv run python bench/profile.py [--page cases] [--seconds 15] [--rate 250]

Each sample is charged to the innermost frame's component (the code that was running; a
frame of no known component, a standard library's, to the nearest one around it), and,
separately, to every Kizuna function on its stack (inclusive). Time in the event
loop's own C code (uvloop: polling, socket reads and writes, callbacks) shows as the
loop's frame.

`--native` samples the C frames too (py-spy pauses the server for each sample, so the
rate halves while sampled; the shares hold): system calls, the garbage collector, asyncpg's
and uvloop's compiled code, datetime and orjson then show as themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kizuna.bench.anchor_target import page_body
from kizuna.bench.server import wait_until_ready
from kizuna.bench.target import prepare_target

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ANCHORS = ROOT.parent / "shared" / "bench-anchors"
UNLIMITED = 10**12
# The innermost frame's file → its component, first match wins.
COMPONENTS = (
    # C frames (--native), as py-spy names them: "write (libc.so.6)", "Codec_decode (protocol.c:16144)"
    ("epoll_pwait", "waiting for the sockets (idle)"),
    ("libc.so", "system calls and libc (socket writes and reads, getpid, getrandom, malloc)"),
    ("gc_collect", "garbage collector"),
    ("pgproto.c", "asyncpg (driver, socket writes)"),
    ("protocol.c", "asyncpg (driver, socket writes)"),
    ("recordobj.c", "asyncpg (driver, socket writes)"),
    ("loop.c", "event loop (uvloop and asyncio)"),
    ("_asynciomodule.c", "event loop (uvloop and asyncio)"),
    ("_datetimemodule.c", "datetime (timestamps decoded and written)"),
    ("orjson", "orjson (the answer's JSON)"),
    ("<string>", "compiled completion (generated code)"),
    ("/schema/compiled.py", "compiled completion (generated code)"),
    ("/schema/rows.py", "rows → answer (readers)"),
    ("/asyncpg/", "asyncpg (driver, socket writes)"),
    ("/graphql/", "graphql-core (execution)"),
    ("/strawberry/", "strawberry (resolver wrappers)"),
    ("/uvicorn/", "uvicorn (HTTP, socket writes)"),
    ("/starlette/", "starlette (routing, middleware)"),
    ("/authlib/", "authlib (tokens)"),
    ("/asyncio/", "event loop (uvloop and asyncio)"),
    ("/platform/", "Kizuna platform (scope, database, audit)"),
    ("/auth/", "Kizuna auth (caller, memberships)"),
    ("/schema/", "Kizuna schema (HTTP endpoint, resolvers, cost)"),
)


def component(frames: list[str]) -> str:
    """The component of the innermost frame that belongs to one, from the inside out."""
    for frame in reversed(frames):
        if frame.startswith("0x"):  # an unnamed address (the thread's start in libc): no component
            continue
        found = re.search(r"\(([^()]*):\d+\)$", frame)
        path = found.group(1) if found else frame
        for marker, name in COMPONENTS:
            if marker in path:
                return name
    return "other (stdlib and the rest)"


def kizuna_function(frame: str) -> str | None:
    """`module.function` for a Kizuna frame (the repository's own files), else None."""
    found = re.match(r"(.*) \((.*):\d+\)$", frame)
    if found is None or str(ROOT) not in found.group(2) or "/.venv/" in found.group(2):
        return None
    module = Path(found.group(2)).relative_to(ROOT).with_suffix("")
    return f"{'.'.join(module.parts)}.{found.group(1)}"


def summarise(raw: Path) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    inner: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        frames = stack.split(";")
        total += samples
        inner[component(frames)] += samples
        for name in {f for f in map(kizuna_function, frames) if f is not None}:
            inclusive[name] += samples
    return total, inner, inclusive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".kizuna" / "bench-anchors")
    parser.add_argument("--page", choices=("cases", "referrals", "node"), default="cases")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--port", type=int, default=5412)
    parser.add_argument("--native", action="store_true", help="sample C frames too (pauses the server per sample)")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    target = prepare_target(args.data_dir, tenant="111007", scale=12)
    body, _, _ = asyncio.run(page_body(target, args.page))
    server = subprocess.Popen(
        [sys.executable, "-m", "kizuna.platform.cli", "serve", "--port", str(args.port), "--workers", "1"],
        env=os.environ | {"KIZUNA_DATA_DIR": str(args.data_dir), "KIZUNA_RATE_LIMIT": str(UNLIMITED)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{args.port}/graphql"
    wrk = ["wrk", "-t2", "-c32", "-s", str(ANCHORS / "wrk" / "graphql.lua")]
    try:
        wait_until_ready(server, args.port)
        with tempfile.TemporaryDirectory() as scratch:
            body_file = Path(scratch) / "body.json"
            body_file.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
            wrk_env = os.environ | {
                "WRK_BODY_FILE": str(body_file),
                "WRK_HEADERS": f"Authorization: Bearer {target.token}",
            }
            subprocess.run([*wrk, "-d3s", url], env=wrk_env, capture_output=True, check=True)  # warm
            raw = Path(scratch) / "samples.txt"
            load = subprocess.Popen([*wrk, f"-d{args.seconds + 4}s", url], env=wrk_env, stdout=subprocess.PIPE)
            time.sleep(2)
            spy = [py_spy, "record", "-p", str(server.pid), "-d", str(args.seconds), "-r", str(args.rate)]
            subprocess.run(
                [*spy, "--native" if args.native else "--nonblocking", "--full-filenames", "-f", "raw", "-o", str(raw)],
                check=True,
                capture_output=True,
            )
            out, _ = load.communicate()
            total, inner, inclusive = summarise(raw)
    finally:
        server.terminate()
        server.wait(timeout=30)
    wrk_figures = json.loads(out.decode().split("WRK_JSON", 1)[1])
    rate = wrk_figures["requests"] / (wrk_figures["duration_us"] / 1e6)
    lines = [
        f"Kizuna {args.page} page, one worker, wrk 32 connections: {rate:.0f} req/s while sampled"
        f"{' (native frames: the server paused per sample)' if args.native else ''};"
        f" {total} samples at {args.rate} Hz over {args.seconds} s; load average {os.getloadavg()[0]:.1f}",
        "",
        "| where the server was (innermost frame) | share |",
        "|---|---:|",
        *(f"| {name} | {100 * n / total:.1f}% |" for name, n in inner.most_common()),
        "",
        "| Kizuna function (inclusive: on the stack) | share |",
        "|---|---:|",
        *(f"| `{name}` | {100 * n / total:.1f}% |" for name, n in inclusive.most_common(25)),
    ]
    print("\n".join(lines))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (RESULTS / f"profile-{args.page}-{stamp}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
