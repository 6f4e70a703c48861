"""Benchmark: how long the `kizuna` commands take, and a fresh first start.

Not a test: it prints figures (docs/benchmarks.md, "Commands and first start", says what
they were). The machine is shared and noisy: each command runs `--runs` times and the
median and the fastest run are printed, with the load average.

    uv run python bench/commands.py [--runs 5] [--launcher ".venv/bin/kizuna"] [--prefecture 11]

1. A fresh first start: `kizuna serve` on an empty data directory (a temporary one), each
   line it prints stamped with the seconds since it was started (the phases: the embedded
   PostgreSQL, migrations, demo seeding, the app), then the first HTTP answer (`/healthz`)
   and the first authenticated answer (a GraphQL answer to a `kizuna dev-token` token,
   the time of the dev-token command included).
2. While that server runs: `dev-token` for a demo user and for `--subject`, `dev-client`.
3. Commands that need no server: `--help`, `tenants list`, `schema export`.

Each command runs under `--launcher` (default: the virtual environment's `kizuna`) and,
for comparison, under `uv run kizuna`, which adds uv's own start and its check that the
environment is in sync.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUERY = "{ viewer { subject } cases(first: 1) { totalCount } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    return time.perf_counter() - start, result


def timed(label: str, command: list[str], env: dict[str, str], runs: int) -> None:
    seconds = []
    for _ in range(runs):
        elapsed, result = run(command, env)
        if result.returncode != 0:
            print(f"  {label}: exit {result.returncode}: {result.stderr.strip()[-300:]}")
            return
        seconds.append(elapsed)
    print(f"  {label:<58} median {statistics.median(seconds):6.3f} s   fastest {min(seconds):6.3f} s")


class Serve:
    """`kizuna serve` on a fresh data directory, its output stamped as it arrives."""

    def __init__(self, launcher: list[str], env: dict[str, str], port: int) -> None:
        self.started = time.perf_counter()
        self.lines: list[tuple[float, str]] = []
        self.process = subprocess.Popen(
            [*launcher, "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((self.elapsed(), line.rstrip()))

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        self.reader.join(timeout=5)


def first_start(launcher: list[str], env: dict[str, str]) -> tuple[Serve, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = Serve(launcher, env, port)
    with httpx.Client(base_url=url, timeout=5) as client:
        while True:
            if serve.process.poll() is not None:
                raise SystemExit("kizuna serve exited:\n" + "\n".join(line for _, line in serve.lines))
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        http_answer = serve.elapsed()
        _, token = run([*launcher, "dev-token", "--role", "caseworker", "--municipality", municipality(env)], env)
        response = client.post(
            "/graphql", json={"query": QUERY}, headers={"authorization": f"Bearer {token.stdout.strip()}"}
        )
        answered = serve.elapsed()
        assert response.status_code == 200, response.text
        assert response.json()["data"]["cases"]["totalCount"] > 0, response.text
    print("First start on an empty data directory (seconds since `kizuna serve` began):")
    for at, line in serve.lines:
        print(f"  {at:6.2f}  {line[:110]}")
    print(f"  {http_answer:6.2f}  first HTTP answer (/healthz)")
    print(f"  {answered:6.2f}  first authenticated answer (dev-token, then GraphQL)")
    return serve, url


def municipality(env: dict[str, str]) -> str:
    return {"11": "111007", "39": "392014"}[env["KIZUNA_PREFECTURE"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (median and fastest are printed)")
    parser.add_argument(
        "--launcher", default=str(ROOT / ".venv" / "bin" / "kizuna"), help="how to run kizuna (a shell-quoted command)"
    )
    parser.add_argument("--prefecture", default="11", choices=["11", "39"], help="the prefecture to seed and serve")
    args = parser.parse_args()
    launchers = {"": shlex.split(args.launcher), "uv run ": ["uv", "run", "kizuna"]}
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="kizuna-bench-") as data_dir:
        env = os.environ | {"KIZUNA_DATA_DIR": data_dir, "KIZUNA_PREFECTURE": args.prefecture}
        env.pop("DATABASE_URL", None)
        serve, _ = first_start(launchers[""], env)
        try:
            code = municipality(env)
            print(f"With the server running ({args.runs} runs each):")
            for prefix, launcher in launchers.items():
                demo_user = ["dev-token", "--role", "caseworker", "--municipality", code]
                timed(f"{prefix}kizuna {' '.join(demo_user)}", [*launcher, *demo_user], env, args.runs)
                subject = ["dev-token", "--subject", f"demo:supervisor:{code}"]
                timed(f"{prefix}kizuna {' '.join(subject)}", [*launcher, *subject], env, args.runs)
                client = ["dev-client", "--municipality", code]
                timed(f"{prefix}kizuna {' '.join(client)}", [*launcher, *client], env, args.runs)
        finally:
            serve.stop()
        print(f"Without a server ({args.runs} runs each):")
        for prefix, launcher in launchers.items():
            for command in (["--help"], ["tenants", "list"], ["schema", "export"]):
                timed(f"{prefix}kizuna {' '.join(command)}", [*launcher, *command], env, args.runs)


if __name__ == "__main__":
    main()
