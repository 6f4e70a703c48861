"""Benchmark: how long each page takes to answer, as a signed-in person opens it.

Not a test: it prints figures and writes JSON to bench/results/. Issue 17's target is a
page in under 200 ms at p50 with demo data at `--scale 20`.

    uv run python bench/pages.py [--scale 20] [--requests 60] [--tenant 111007] [--reads 100]

The demo data is seeded (bench/target.py), the prefecture's figures published
(`kizuna stats refresh`), and `kizuna serve` started as in production (one worker); a
caseworker first reads its cases `--reads` times through the API, so that the audit log
is not empty (the demo data is seeded without audit events). Each
visitor signs in through the development IdP's own pages, so the pages run with a real
session cookie, exactly as a browser's; then each of its pages is requested one at a time
(a person waits for a page before the next), after a few discarded warm-up requests. A
page that does not answer 200 stops the run: a refusal is fast and would flatter the figures.
The machine may be shared: each visitor's reference request (`{ viewer { role } }` sent to
`/graphql` with the same session: the request path alone) is measured in the same run, and
each page is also printed as a multiple of it.

A page is measured by adding its path to `PAGES`. A page about one case or referral names
a real one of the seeded data: `{case}` is the tenant's case with the longest history
among its newest 50 (read through the API: the case that has come furthest has the most to show),
`{referral}` the newest referral on the school teacher's own list, `{waiting}` the newest
referral waiting in the caseworker's inbox.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from html import unescape
from pathlib import Path

import httpx

from kizuna.bench.cases_page import BODY, free_port, percentile, start_server
from kizuna.bench.target import prepare_target

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PREFECTURE = "110001"

# The pages each role opens, by the demo role (its user in the tenant; the analyst's in the
# prefecture). "{tenant}" is the benchmark tenant's code.
PAGES: dict[str, list[str]] = {
    "prefecture_analyst": ["/"],
    "supervisor": ["/", "/desk", "/desk/audit"],
    "school_staff": ["/referrals/new", "/referrals", "/referrals/{referral}"],
    "caseworker": ["/inbox", "/inbox/referrals/{waiting}", "/cases/{case}"],
}
BUSIEST_CASE = "{ cases(first: 50) { nodes { id history { kind } } } }"


def subject_of(role: str, tenant: str) -> str:
    return f"demo:{role}:{PREFECTURE if role == 'prefecture_analyst' else tenant}"


def sign_in(client: httpx.Client, subject: str) -> None:
    """Through the development IdP's sign-in page, as a person clicks through it."""
    page = client.get("/auth/login")
    while page.is_redirect:
        page = client.get(page.headers["location"])
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text)[1])  # type: ignore[index]
    hidden = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    picked = client.post(str(page.url.join(action)), data=hidden | {"subject": subject})
    landed = client.get(picked.headers["location"])
    if landed.headers.get("location") != "/":
        raise SystemExit(f"could not sign in as {subject}: {landed.status_code} {landed.text[:200]}")


def read_cases(url: str, token: str, times: int) -> None:
    """A caseworker's reads of its cases through the API: the audit log then holds as many
    read events, each naming the 50 cases and people it read, as a working day's log does."""
    with httpx.Client(timeout=60, headers={"authorization": f"Bearer {token}"}) as client:
        for _ in range(times):
            client.post(f"{url}/graphql", json=BODY).raise_for_status()


def busiest_case(url: str, token: str) -> str:
    """The global id of the newest cases' one with the longest history."""
    answer = httpx.post(
        f"{url}/graphql", json={"query": BUSIEST_CASE}, headers={"authorization": f"Bearer {token}"}, timeout=60
    )
    nodes = answer.raise_for_status().json()["data"]["cases"]["nodes"]
    return str(max(nodes, key=lambda case: len(case["history"]))["id"])


def newest_referral(client: httpx.Client) -> str:
    """The id of the first referral on the signed-in sender's list (newest first)."""
    listed = re.search(r'<tr data-id="([^"]+)"', client.get("/referrals").text)
    if listed is None:
        raise SystemExit("the school teacher has no referral to open")
    return unescape(listed[1])


def newest_waiting(client: httpx.Client) -> str:
    """The id of the first referral of the signed-in caseworker's inbox (newest first)."""
    listed = re.search(r'<a href="/inbox/referrals/([^"]+)">', client.get("/inbox").text)
    if listed is None:
        raise SystemExit("no referral waits in the caseworker's inbox")
    return unescape(listed[1])


@dataclass(frozen=True)
class Timing:
    requests: int
    p50_ms: float
    p90_ms: float
    max_ms: float
    bytes: int


REFERENCE = {"query": "{ viewer { role } }"}
# A script's request with the session: the proof that it comes from Kizuna's own pages.
SAME_ORIGIN = {"kizuna-csrf": "1", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty", "sec-fetch-site": "same-origin"}


def measure(client: httpx.Client, path: str, *, requests: int, warmup: int) -> Timing:
    latencies = []
    for number in range(warmup + requests):
        started = time.perf_counter()
        # The reference is the only POST; every page is a GET.
        response = client.post(path, json=REFERENCE, headers=SAME_ORIGIN) if path == "/graphql" else client.get(path)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}\n{response.text[:500]}")
        if number >= warmup:
            latencies.append(elapsed * 1e3)
    return Timing(
        requests, statistics.median(latencies), percentile(latencies, 90), max(latencies), len(response.content)
    )


def report(role: str, path: str, figures: Timing, reference: Timing) -> None:
    print(
        f"{role:20} {path[:24]:24} p50 {figures.p50_ms:7.1f} ms  p90 {figures.p90_ms:7.1f} ms"
        f"  max {figures.max_ms:7.1f} ms  {figures.bytes:>8} bytes"
        f"  {figures.p50_ms / reference.p50_ms:5.1f}x the reference  load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=20)
    parser.add_argument("--requests", type=int, default=60, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="discarded requests per page first")
    parser.add_argument("--tenant", default="111007")
    parser.add_argument("--reads", type=int, default=100, help="a caseworker's audited reads made first")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".kizuna" / "bench")
    args = parser.parse_args()

    target = prepare_target(args.data_dir, tenant=args.tenant, scale=args.scale)
    env = os.environ | {"KIZUNA_DATA_DIR": str(target.settings.data_dir)}
    subprocess.run([sys.executable, "-m", "kizuna.platform.cli", "stats", "refresh"], env=env, check=True)
    port = free_port()
    server = start_server(target.settings.data_dir, port)
    pages: list[dict[str, object]] = []
    try:
        read_cases(f"http://127.0.0.1:{port}", target.token, args.reads)
        case = busiest_case(f"http://127.0.0.1:{port}", target.token)
        for role, paths in PAGES.items():
            subject = subject_of(role, args.tenant)
            navigation = {"sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "sec-fetch-site": "none"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers=navigation) as client:
                sign_in(client, subject)
                reference = measure(client, "/graphql", requests=args.requests, warmup=args.warmup)
                pages.append({"role": role, "path": "/graphql"} | asdict(reference))
                report(role, "/graphql", reference, reference)
                ids = {"case": case}
                if any("{referral}" in path for path in paths):
                    ids["referral"] = newest_referral(client)
                if any("{waiting}" in path for path in paths):
                    ids["waiting"] = newest_waiting(client)
                for path in (template.format_map(ids) for template in paths):
                    figures = measure(client, path, requests=args.requests, warmup=args.warmup)
                    pages.append({"role": role, "path": path} | asdict(figures))
                    report(role, path, figures, reference)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    result = {
        "tenant": args.tenant,
        "cases": target.cases,
        "scale": args.scale,
        "requests_per_page": args.requests,
        "warmup_per_page": args.warmup,
        "audited_reads_first": args.reads,
        "target_p50_ms": 200,
        "pages": pages,
        "load_average": os.getloadavg(),
    }
    written = RESULTS / f"pages-{stamp}.json"
    written.write_text(json.dumps(result, indent=2))
    print(f"wrote {written.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
