#!/usr/bin/env python3
"""Times `factory compat` over a store of 1,000 libraries × 10 versions with a composition of
30 libraries left open for the solver (each version depends on the next library with a
range that moves with it).

Usage: cargo build --release && python3 scripts/bench_compat.py [--runs 5]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import FACTORY, envelope, uuid7


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not os.path.exists(FACTORY):
        sys.exit("build first: cargo build --release")
    store = tempfile.mkdtemp(prefix="factory-bench-compat-")
    env = dict(os.environ, FACTORY_STORE=store)
    subprocess.run([FACTORY, "init", "--quiet"], env=env, check=True)
    names = [f"Bench.Lib{i:04d}" for i in range(1000)]
    with open(os.path.join(store, "events.jsonl"), "a") as log:
        for i, name in enumerate(names):
            lib = f"lib-{uuid7()}"
            log.write(envelope("LibraryRegistered", {"libraryId": lib, "packageName": name, "area": None, "ecosystem": "nuget"}) + "\n")
            for major in range(1, 11):
                deps = []
                if i + 1 < len(names):
                    deps.append({"packageName": names[i + 1], "range": f">={max(1, major - 2)}.0.0, <{major + 1}.0.0"})
                log.write(envelope("LibraryVersionCreated", {
                    "libraryId": lib, "libraryVersionId": f"lv-{uuid7()}", "version": f"{major}.0.0",
                    "targetFrameworks": ["net8.0"], "dependencies": deps,
                }) + "\n")
    subprocess.run([FACTORY, "store", "rebuild", "--quiet"], env=env, check=True)
    command = [FACTORY, "compat", "--quiet"]
    for name in names[:30]:
        command += ["--with", name]
    samples = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True)
        samples.append(time.perf_counter() - start)
    result = json.loads(subprocess.run(command[:2] + command[3:] + ["--json"], env=env, check=True, capture_output=True).stdout)
    print(f"1000 libraries x 10 versions; composition of 30 libraries; solver chose {len(result['chosen'])} versions; "
          f"compatible={result['compatible']}; compat median of {args.runs}: {statistics.median(samples) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
