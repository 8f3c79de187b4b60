"""Worker memory alone: our server against the twin, as bench/run.py starts and measures them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/uurwerk_bench .venv/bin/python bench/memory.py

Starts both servers the way bench/run.py does (gunicorn, sync workers, our Production command),
sends each every scenario of bench/run.py for --seconds (the warm-up), reads the workers' mean
VmRSS and PSS, then sends gets by id until each side served --requests more, and reads them
again. No latency table: bench/run.py is the yardstick for time, this is the quick look at memory
(a few minutes instead of ten). Writes add entries to the biggest administration, as in run.py.
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402 - after the path above
    DEFAULT_DATABASE,
    OURS_APP,
    OURS_OPTIONS,
    SERVER_ENV,
    TWIN_APP,
    Server,
    django_setup,
    free_port,
    run_python,
    scenarios,
    targets,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, each side")
    parser.add_argument("--seconds", type=float, default=1, help="warm-up per scenario and side")
    parser.add_argument(
        "--requests", type=int, default=2000, help="gets by id per side after the warm-up"
    )
    options = parser.parse_args()
    django_setup(options.database_url)
    t = targets("bench/memory.py")
    everything = scenarios(t)
    headers = {"Authorization": f"Bearer {t['secret']}", "Content-Type": "application/json"}
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": options.database_url}
    ports = free_port(), free_port()
    servers = {
        "ours": Server("ours", OURS_APP, ports[0], options.workers, env, *OURS_OPTIONS),
        "twin": Server("twin", TWIN_APP, ports[1], options.workers, env),
    }
    rows: list[tuple[str, dict[str, float]]] = []

    def read(when: str) -> None:
        rows.append((f"RSS {when}", {name: s.rss_mb() for name, s in servers.items()}))
        rows.append((f"PSS {when}", {name: s.pss_mb() for name, s in servers.items()}))

    try:
        for server in servers.values():
            server.wait_ready(everything[0].path, headers)
        read("before any request")
        for scenario in everything:
            for server in servers.values():
                run_python(server.port, scenario, headers, options.seconds, 2)
        read("after warm-up")
        by_id = next(s for s in everything if s.name == "get by id")
        for server in servers.values():
            served = 0
            while served < options.requests:
                served += run_python(server.port, by_id, headers, 2, 2)[0]
        read(f"after {options.requests:,} gets more")
    finally:
        for server in servers.values():
            server.stop()
    print("| worker memory (MiB, mean per worker) | ours | twin | ours/twin |")
    print("|---|---|---|---|")
    for name, sizes in rows:
        ours, twin = sizes["ours"], sizes["twin"]
        print(f"| {name} | {ours:.1f} | {twin:.1f} | {ours / twin:.2f}x |")


if __name__ == "__main__":
    main()
