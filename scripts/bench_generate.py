#!/usr/bin/env python3
"""Benchmark `factory generate` against the floor: `cp -r` of the already-rendered tree plus
`sha256sum` of its files.

A synthetic template: N files over nested folders, file and folder names templated, each file
about 2.3 KB with 10 substitutions, an if/else on a bool and a loop, 5 parameters.

Usage: cargo build --release && python3 scripts/bench_generate.py [--files 1000 10000] [--runs 5]
Every run writes into a fresh folder and nothing is deleted between runs (on these machines a
large `rm -rf` slows file creation for minutes); the work folder is left for you to remove.
Prints medians; asserts nothing.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FACTORY = os.path.join(ROOT, "target", "release", "factory")

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


def write_template(root, files):
    os.makedirs(os.path.join(root, "content"), exist_ok=True)
    with open(os.path.join(root, "template.yaml"), "w") as f:
        f.write(MANIFEST + "content: content\n")
    filler = "    # " + "x" * 70 + "\n"
    body = BODY
    while len(body.encode()) < 2250:
        body += filler
    per_dir = 50
    for i in range(files):
        group, sub = divmod(i // per_dir, 10)
        folder = os.path.join(root, "content", "{{ package }}", f"group_{group:03d}", f"{{{{ package }}}}_{sub}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{{{{ package }}}}_{i:05d}.py"), "w") as f:
            f.write(body)


def timed(cmd, env=None, cwd=None):
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, shell=isinstance(cmd, str))
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not os.path.exists(FACTORY):
        sys.exit("build first: cargo build --release")
    work = tempfile.mkdtemp(prefix="factory-bench-generate-")
    env = dict(os.environ, FACTORY_STORE=os.path.join(work, "store"))
    print(f"work folder: {work}")
    for files in args.files:
        template = os.path.join(work, f"template-{files}")
        write_template(template, files)
        # The already-rendered tree the floor copies.
        reference = os.path.join(work, f"rendered-{files}")
        subprocess.run([FACTORY, "generate", template, "-o", reference, "--defaults", "--quiet"], env=env, check=True)
        ours, floor = [], []
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        for run in range(args.runs):
            out = os.path.join(work, f"out-{files}-{run}")
            ours.append(timed([FACTORY, "generate", template, "-o", out, "--defaults", "--quiet"], env=env))
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        for run in range(args.runs):
            out = os.path.join(work, f"floor-{files}-{run}")
            floor.append(timed(f"cp -r '{reference}' '{out}' && find '{out}' -type f -print0 | xargs -0 sha256sum > /dev/null"))
        a, b = statistics.median(ours), statistics.median(floor)
        print(f"N={files:>6}: factory generate {a * 1000:8.1f} ms   floor (cp -r + sha256sum) {b * 1000:8.1f} ms   "
              f"ratio {a / b:4.2f}   peak RSS {max(peak_kb, before) / 1024:.1f} MB")


if __name__ == "__main__":
    main()
