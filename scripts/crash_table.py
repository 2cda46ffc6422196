#!/usr/bin/env python3
"""kill -9 at random points of `generate --force`, `version` and `upgrade --apply`, then check
what the next command finds. Prints one table row per command: how many trials ended with the
work done, with it undone, and with anything else (mixed files, a store that fails
`store check`, leftovers beside the target) — the last column must be 0.

    cargo build --release && python3 scripts/crash_table.py [--trials 50] [--files 1500]
"""

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import FACTORY  # noqa: E402


def run(store, *args, check=True):
    out = subprocess.run([FACTORY, "--store", store, *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        raise SystemExit(f"factory {' '.join(args)} failed ({out.returncode}):\n{out.stderr}")
    return out


def snapshot(root):
    """Relative path -> sha256 of every file below root, but scaffold.yaml (it records its
    run's id and time, so two runs of the same output differ there only)."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            if path.endswith(os.path.join(".factory", "scaffold.yaml")):
                continue
            with open(path, "rb") as f:
                files[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return files


def write_template(root, name, files, marker):
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "src"))
    with open(os.path.join(root, "template.yaml"), "w") as f:
        f.write(f"name: {name}\ncategory: service\nparameters:\n  - name: service\n    default: svc\n")
    for i in range(files):
        with open(os.path.join(root, "src", f"f{i:05}.txt"), "w") as f:
            f.write(f"{{{{ service }}}} {marker} {i}\n" + "x" * 2000 + "\n")


def killed(argv, delay):
    """Starts argv, kills it with SIGKILL after `delay` seconds; True if it was still running."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return alive


def duration(argv, setup):
    setup()
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True)
    return time.perf_counter() - start


def leftovers(parent, name):
    return [e for e in os.listdir(parent) if e.startswith(f".{name}.factory-")]


def store_is_sound(store):
    out = run(store, "store", "check", check=False)
    if out.returncode != 0:
        print(f"  store check: {out.stdout.strip()}", file=sys.stderr)
    return out.returncode == 0


def why(label, now, old, new, extra):
    """One line on stderr for a trial that ended in neither state."""
    if now != old and now != new:
        mixed = sum(1 for k, v in now.items() if old.get(k) != v and new.get(k) != v)
        print(f"  {label}: {len(now)} files, {mixed} neither old nor new, "
              f"{sum(1 for k in now if now[k] == new.get(k))} new", file=sys.stderr)
    if extra:
        print(f"  {label}: left beside the target: {extra}", file=sys.stderr)


def kill_trials(label, store, work, pristine, argv, next_command, trials):
    """Kills `argv` (which writes over a copy of `pristine` at work/NAME) at random points;
    after each, runs `next_command` (which must undo what the kill left) and counts whether
    the folder is wholly the old or wholly the new, with the store sound and nothing left
    beside it."""
    proj = argv[argv.index("-o") + 1] if "-o" in argv else argv[argv.index("upgrade") + 1]
    name = os.path.basename(proj)

    def reset():
        shutil.rmtree(proj, ignore_errors=True)
        shutil.copytree(pristine, proj, symlinks=True)

    reset()
    old = snapshot(proj)
    full = duration(argv, reset)
    new = snapshot(proj)
    counts = {"done": 0, "undone": 0, "bad": 0, "killed": 0}
    for _ in range(trials):
        reset()
        counts["killed"] += killed(argv, random.uniform(0.0, full * 1.2))
        run(store, *next_command, check=False)
        now = snapshot(proj)
        sound = store_is_sound(store) and not leftovers(work, name)
        why(label, now, old, new, leftovers(work, name))
        if now == new and sound:
            counts["done"] += 1
        elif now == old and sound:
            counts["undone"] += 1
        else:
            counts["bad"] += 1
    return full, counts


def generate_force(work, trials, files):
    store = os.path.join(work, "store-gen")
    old_t, new_t = os.path.join(work, "gen-old"), os.path.join(work, "gen-new")
    write_template(old_t, "gen", files, "old")
    write_template(new_t, "gen", files, "new")
    proj, pristine = os.path.join(work, "proj"), os.path.join(work, "proj-pristine")
    run(store, "generate", old_t, "-o", pristine, "--defaults")
    with open(os.path.join(pristine, "mine.txt"), "w") as f:
        f.write("the user's own file\n")
    argv = [FACTORY, "--store", store, "generate", new_t, "-o", proj, "--defaults", "--force"]
    # The next command on the target undoes an interrupted run (and then refuses: the target
    # is not empty and there is no --force).
    after = ["generate", new_t, "-o", proj, "--defaults"]
    return kill_trials("generate --force", store, work, pristine, argv, after, trials)


def version(work, trials, files):
    store = os.path.join(work, "store-ver")
    folder = os.path.join(work, "ver")
    write_template(folder, "ver", files, "v0")
    run(store, "register", folder)
    counts = {"done": 0, "undone": 0, "bad": 0, "killed": 0}
    full = None
    for trial in range(trials + 1):
        # New content each time, so every trial writes every object again.
        write_template(folder, "ver", files, f"v{trial + 1}")
        number = f"1.0.{trial}"
        argv = [FACTORY, "--store", store, "version", "ver", "--from", folder, "--version", number]
        if full is None:
            full = duration(argv, lambda: None)
            continue
        counts["killed"] += killed(argv, random.uniform(0.0, full * 1.2))
        listed = run(store, "--json", "show", "ver", check=False).stdout
        created = f'"{number}"' in listed
        sound = store_is_sound(store)
        run(store, "store", "gc")
        sound = sound and store_is_sound(store)
        if not sound:
            counts["bad"] += 1
        elif created:
            counts["done"] += 1
        else:
            counts["undone"] += 1
    return full, counts


def upgrade_apply(work, trials, files):
    store = os.path.join(work, "store-up")
    folder = os.path.join(work, "up")
    write_template(folder, "up", files, "one")
    run(store, "register", folder)
    run(store, "version", "up", "--from", folder, "--version", "1.0.0")
    run(store, "validate", "up@1.0.0")
    run(store, "publish", "up@1.0.0")
    write_template(folder, "up", files, "two")
    run(store, "version", "up", "--from", folder, "--version", "2.0.0")
    run(store, "validate", "up@2.0.0")
    run(store, "publish", "up@2.0.0")
    proj, pristine = os.path.join(work, "uproj"), os.path.join(work, "uproj-pristine")
    run(store, "generate", "up@1.0.0", "-o", pristine, "--defaults")
    argv = [FACTORY, "--store", store, "upgrade", proj, "--to", "2.0.0", "--apply"]
    # Planning again is the next command on the project: it undoes an interrupted apply.
    after = ["upgrade", proj, "--to", "2.0.0"]
    return kill_trials("upgrade --apply", store, work, pristine, argv, after, trials)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--files", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    random.seed(args.seed)
    if not os.path.exists(FACTORY):
        raise SystemExit(f"{FACTORY} is missing: run `cargo build --release` first")
    bad = 0
    with tempfile.TemporaryDirectory() as work:
        print(f"{args.trials} trials each, {args.files} files, kill -9 at a uniform random point of 1.2 times a full run")
        print(f"{'command':<20} {'run (ms)':>9} {'killed':>7} {'done':>6} {'undone':>7} {'other':>6}")
        for label, scenario in [
            ("generate --force", generate_force),
            ("version", version),
            ("upgrade --apply", upgrade_apply),
        ]:
            full, c = scenario(work, args.trials, args.files)
            bad += c["bad"]
            print(f"{label:<20} {full * 1000:>9.0f} {c['killed']:>7} {c['done']:>6} {c['undone']:>7} {c['bad']:>6}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
