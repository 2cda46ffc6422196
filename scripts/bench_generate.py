#!/usr/bin/env python3
"""Benchmark `factory generate` against the floor: `cp -r` of the already-rendered tree plus
`sha256sum` of its files, both measured in the same run, runs interleaved (A, floor, A, floor…)
so a machine whose load changes meanwhile weighs on both alike.

A synthetic template: N files over nested folders, file and folder names templated, each file
about 2.3 KB with 10 substitutions, an if/else on a bool and a loop, 5 parameters. With
`--plain` a share of the files have no template syntax at all (copied as they are).

Usage: cargo build --release && python3 scripts/bench_generate.py [--files 1000 10000] [--runs 5]
       [--baseline OTHER_FACTORY_BINARY] [--plain 0.5]
`--baseline` times another build beside this one in the same run (a before/after). FACTORY_BIN
picks the binary measured (the release build by default).

Prints, per size, medians of whole-process wall time and CPU time (user + system, the process
and its children) for factory and the floor, their ratios, the machine's load, and factory's
peak resident memory (the largest of its runs). Every run writes into a fresh folder and
nothing is deleted between runs (on these machines a large `rm -rf` slows file creation for
minutes, and so the figures of the runs after it); the work folder is left for you to remove,
or removed at the end with `--clean`. Asserts nothing.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import FACTORY  # noqa: E402

MANIFEST = """name: bench
category: service
parameters:
  - name: project
    default: Benchmark Project
  - name: package
    default: "{{ project | snake_case }}"
  - name: author
    default: Ada Lovelace
  - name: with_logging
    type: bool
    default: true
  - name: items
    type: list
    default: [alpha, beta, gamma]
"""

BODY = """# {{ project }} / module {{ package }} ({{ author }})
# generated for {{ package | pascal_case }} by {{ author | upper }}
{% if with_logging %}import logging
log = logging.getLogger("{{ package }}")
{% else %}log = None
{% endif %}
ITEMS = [{% for item in items %}"{{ item }}", {% endfor %}]

class {{ package | pascal_case }}Component:
    \"\"\"Part of {{ project }}. Maintained by {{ author }}.\"\"\"

    name = "{{ package }}"
"""

PLAIN = """# A module without template syntax: copied as it is.
import logging

log = logging.getLogger(__name__)


class Component:
    \"\"\"Part of the project.\"\"\"

    name = "component"
"""

def padded(body):
    filler = "    # " + "x" * 70 + "\n"
    while len(body.encode()) < 2250:
        body += filler
    return body


def write_template(root, files, plain_share):
    os.makedirs(os.path.join(root, "content"), exist_ok=True)
    with open(os.path.join(root, "template.yaml"), "w") as f:
        f.write(MANIFEST + "content: content\n")
    templated, plain = padded(BODY), padded(PLAIN)
    per_dir = 50
    plain_every = round(1 / plain_share) if plain_share > 0 else 0
    for i in range(files):
        group, sub = divmod(i // per_dir, 10)
        folder = os.path.join(root, "content", "{{ package }}", f"group_{group:03d}", f"{{{{ package }}}}_{sub}")
        os.makedirs(folder, exist_ok=True)
        body = plain if plain_every and i % plain_every == 0 else templated
        with open(os.path.join(folder, f"{{{{ package }}}}_{i:05d}.py"), "w") as f:
            f.write(body)


def timed(cmd, env=None):
    """Wall seconds, CPU seconds (user + system of the process and what it waited for) and
    peak resident KB of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, shell=isinstance(cmd, str))
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {cmd}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", help="another factory binary to time beside this one")
    parser.add_argument("--plain", type=float, default=0.0, help="share of files without template syntax")
    parser.add_argument("--clean", action="store_true", help="remove the work folder at the end")
    args = parser.parse_args()
    if not os.path.exists(FACTORY):
        sys.exit("build first: cargo build --release")
    work = tempfile.mkdtemp(prefix="factory-bench-generate-")
    env = dict(os.environ, FACTORY_STORE=os.path.join(work, "store"))
    print(f"work folder: {work}")
    print(f"factory: {FACTORY}" + (f"   baseline: {args.baseline}" if args.baseline else ""))
    try:
        for files in args.files:
            template = os.path.join(work, f"template-{files}")
            write_template(template, files, args.plain)
            # The already-rendered tree the floor copies.
            reference = os.path.join(work, f"rendered-{files}")
            subprocess.run([FACTORY, "generate", template, "-o", reference, "--defaults", "--quiet"],
                           env=env, check=True)
            contenders = {"factory": lambda out: [FACTORY, "generate", template, "-o", out, "--defaults", "--quiet"]}
            if args.baseline:
                contenders["baseline"] = lambda out: [args.baseline, "generate", template, "-o", out,
                                                      "--defaults", "--quiet"]
            contenders["floor"] = lambda out: (
                f"cp -r '{reference}' '{out}' && find '{out}' -type f -print0 | xargs -0 sha256sum > /dev/null")
            results = {name: [] for name in contenders}
            loads = [load()]
            for run in range(args.runs):
                for name, command in contenders.items():
                    out = os.path.join(work, f"{name}-{files}-{run}")
                    results[name].append(timed(command(out), env=env))
            loads.append(load())
            floor_wall = statistics.median(r[0] for r in results["floor"])
            floor_cpu = statistics.median(r[1] for r in results["floor"])
            print(f"N={files}  load before/after: {loads[0]} / {loads[1]}")
            for name, runs in results.items():
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                peak = max(r[2] for r in runs) / 1024
                line = f"  {name:<9} wall {wall * 1000:8.1f} ms  cpu {cpu * 1000:8.1f} ms"
                if name != "floor":
                    line += f"   wall {wall / floor_wall:4.2f}x floor, cpu {cpu / floor_cpu:4.2f}x floor, peak RSS {peak:5.1f} MB"
                print(line)
    finally:
        if args.clean:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
