#!/usr/bin/env python3
"""Times the release binary: start-up (`factory --version`, `factory list`) and command
latency with 10 events in the log against 200,000 events, to show that cost does not grow
with the log (projections, not replays).

Usage: cargo build --release && python3 scripts/bench_cli.py [--runs N]
Prints medians in milliseconds. A benchmark, not a test: nothing here asserts.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import FACTORY, ROOT, uuid7

EXAMPLE = os.path.join(ROOT, "templates-examples", "reservations-api")
NAME = "ConnectSoft.Template.ReservationsApi"


def run(args, env, check=True):
    result = subprocess.run([FACTORY, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and result.returncode != 0:
        sys.exit(f"factory {' '.join(args)} failed: {result.stderr.decode()}")
    return result


def median_ms(args, env, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run(args, env)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def make_store(events_wanted):
    """A store with the example registered and versioned, padded with validation events."""
    store = tempfile.mkdtemp(prefix="factory-bench-")
    env = dict(os.environ, FACTORY_STORE=store)
    run(["register", EXAMPLE], env)
    run(["version", NAME, "--version", "1.0.0"], env)
    run(["validate", NAME], env)
    log = os.path.join(store, "events.jsonl")
    with open(log) as f:
        lines = f.read().splitlines()
    template = json.loads(lines[-1])
    padding = events_wanted - len(lines)
    with open(log, "a") as f:
        for _ in range(max(0, padding)):
            template["eventId"] = "evt-" + uuid7()
            template["payload"]["validationId"] = "val-" + uuid7()
            f.write(json.dumps(template, separators=(",", ":")) + "\n")
    start = time.perf_counter()
    run(["store", "rebuild"], env)
    rebuild_ms = (time.perf_counter() - start) * 1000
    return store, env, rebuild_ms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    if not os.path.exists(FACTORY):
        sys.exit("build first: cargo build --release")

    small, small_env, _ = make_store(10)
    print(f"start-up, median of {args.runs} runs:")
    print(f"  factory --version        {median_ms(['--version'], small_env, args.runs):7.2f} ms")
    print(f"  factory list (10 events) {median_ms(['list'], small_env, args.runs):7.2f} ms")

    large, large_env, rebuild_ms = make_store(200_000)
    print(f"one-off full replay of 200,000 events (store rebuild): {rebuild_ms:.0f} ms")
    print(f"command latency, median of {args.runs} runs:     10 events   200,000 events")
    for label, cmd in [
        ("list", ["list"]),
        ("show", ["show", f"{NAME}@1.0.0"]),
        ("validate (a write)", ["validate", f"{NAME}@1.0.0", "--quiet"]),
    ]:
        a = median_ms(cmd, small_env, args.runs)
        b = median_ms(cmd, large_env, args.runs)
        print(f"  {label:<20} {a:19.2f} ms {b:13.2f} ms")
    shutil.rmtree(small)
    shutil.rmtree(large)


if __name__ == "__main__":
    main()
