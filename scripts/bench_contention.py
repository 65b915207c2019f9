#!/usr/bin/env python3
"""Hot-spot writes: N clients change ONE job through the real API for S seconds; prints the
latency percentiles and the mix of answers (a contended write must answer 2xx, 409 or 503 with
Retry-After, never 500).

Starts its own local stack (Firestore emulator + gateway) on loopback in a temporary data dir and
stops it at the end; bounded by --seconds.

    python scripts/bench_contention.py --clients 50 --seconds 60
"""
from __future__ import annotations

import argparse
import collections
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()

    from avp.auth.tokens import Principal
    from avp.bootstrap import container
    from avp.domain import audit, jobs, tenancy
    from avp.local.stack import LocalStack

    with tempfile.TemporaryDirectory(prefix="avp-bench-") as tmp:
        stack = LocalStack(Path(tmp), port=0)
        password = stack.start()
        stack.serve_in_background()
        try:
            c = container()
            api = f"{stack.url}/api/v1"
            token = requests.post(f"{api}/auth/login", json={"email": c.settings.admin_email, "password": password},
                                  timeout=30).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            org = tenancy.create_organization(c.store, audit.SYSTEM, name="Bench")
            job = jobs.new_job(Principal("bench", "admin"), org_id=org["id"], client_id=None, project_id=None, title="hot",
                               filename="a.mp4", content_type="video/mp4", size_bytes=1, source_language="en",
                               requested_outputs=None)
            jobs.store_new_job(c.store, audit.SYSTEM, job)
            url = f"{api}/jobs/{job['id']}"

            answers: collections.Counter[str] = collections.Counter()
            latencies: list[float] = []
            lock = threading.Lock()
            deadline = time.monotonic() + args.seconds

            def client(n: int) -> None:
                session = requests.Session()
                i = 0
                while time.monotonic() < deadline:
                    i += 1
                    t0 = time.perf_counter()
                    try:
                        if i % 2:
                            resp = session.patch(url, json={"title": f"client {n} write {i}"}, headers=headers, timeout=60)
                        else:
                            resp = session.post(f"{url}/review-notes", json={"text": f"note {n}/{i}", "timestamp": 1.0},
                                                headers=headers, timeout=60)
                        key = str(resp.status_code)
                        if resp.status_code == 503 and "Retry-After" not in resp.headers:
                            key = "503 without Retry-After"
                    except requests.RequestException as exc:
                        key = type(exc).__name__
                    with lock:
                        answers[key] += 1
                        latencies.append(time.perf_counter() - t0)

            threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            stack.stop()

    latencies.sort()
    total = sum(answers.values())
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(f"{args.clients} clients x {args.seconds:.0f} s on one job: {total} requests, {total / args.seconds:.1f}/s")
    print(f"latency p50 {p(0.50) * 1000:.0f} ms  p95 {p(0.95) * 1000:.0f} ms  max {latencies[-1] * 1000:.0f} ms"
          f"  mean {statistics.mean(latencies) * 1000:.0f} ms")
    print("answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(answers.items())))
    return 1 if any(k.startswith("5") and k != "503" for k in answers) or "503 without Retry-After" in answers else 0


if __name__ == "__main__":
    sys.exit(main())
