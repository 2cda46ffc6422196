#!/usr/bin/env python3
"""Times `factory library scan` on a synthetic graph: 5,000 library versions and 50,000
dependency edges (a DAG: each library depends on 10 later ones within a window).

Usage: cargo build --release && python3 scripts/bench_scan.py [--runs 5]
Prints the median wall time of the whole command (state load, resolution, event, output).
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from bench_common import FACTORY, envelope, uuid7

LIBRARIES = 5000
EDGES = 50000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not os.path.exists(FACTORY):
        sys.exit("build first: cargo build --release")
    random.seed(7)
    store = tempfile.mkdtemp(prefix="factory-bench-scan-")
    env = dict(os.environ, FACTORY_STORE=store)
    subprocess.run([FACTORY, "init", "--quiet"], env=env, check=True)
    names = [f"Bench.Lib{i:04d}" for i in range(LIBRARIES)]
    deps = [[] for _ in range(LIBRARIES)]
    edges = 0
    for i in range(LIBRARIES - 1):
        window = list(range(i + 1, min(LIBRARIES, i + 500)))
        for j in random.sample(window, min(10, len(window))):
            deps[i].append(j)
            edges += 1
    extra = [j for j in range(1, LIBRARIES) if j not in deps[0]]
    deps[0].extend(extra[: EDGES - edges])
    edges += len(extra[: EDGES - edges])
    with open(os.path.join(store, "events.jsonl"), "a") as log:
        for i, name in enumerate(names):
            lib = f"lib-{uuid7()}"
            log.write(envelope("LibraryRegistered", {"libraryId": lib, "packageName": name, "area": None, "ecosystem": "nuget"}) + "\n")
            log.write(envelope("LibraryVersionCreated", {
                "libraryId": lib, "libraryVersionId": f"lv-{uuid7()}", "version": "1.0.0", "targetFrameworks": ["net8.0"],
                "dependencies": [{"packageName": names[j], "range": ">=1.0.0, <2.0.0"} for j in deps[i]],
            }) + "\n")
    subprocess.run([FACTORY, "store", "rebuild", "--quiet"], env=env, check=True)
    samples = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run([FACTORY, "library", "scan", f"{names[0]}@1.0.0", "--quiet"], env=env, check=True)
        samples.append(time.perf_counter() - start)
    out = subprocess.run([FACTORY, "library", "scan", f"{names[0]}@1.0.0", "--json"], env=env, check=True, capture_output=True)
    result = json.loads(out.stdout)
    print(f"{LIBRARIES} library versions, {edges} edges; graph from the root: {len(result['nodes'])} nodes, "
          f"{len(result['edges'])} edges; library scan median of {args.runs}: {statistics.median(samples) * 1000:.0f} ms")
    print(f"store: {store}")


if __name__ == "__main__":
    main()
