#!/usr/bin/env python3
"""kill -9 at random points of `generate --force`, `version` and `upgrade --apply`, then check
what the next command finds. Prints one table row per command: how many trials ended with the
work done, with it undone, and with anything else (mixed files, a store that fails
`store check`, leftovers beside the target, a `verify` that does not exit 0) — the last column
must be 0. `mixed` counts the trials whose target held neither tree right after the kill, before
the next command ran (0 where the target is exchanged in one step; the journal of `-o .` and
`upgrade --apply` is rolled back by the next command); `after` counts the kills that landed
after the target changed, with the old tree still beside it.

    cargo build --release && python3 scripts/crash_table.py [--trials 50] [--files 1500]
    python3 scripts/crash_table.py --factory target/debug/factory --only generate
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


def killed(argv, delay, cwd=None):
    """Starts argv, kills it with SIGKILL after `delay` seconds; True if it was still running."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    time.sleep(delay)
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return alive


def duration(argv, setup, cwd=None):
    setup()
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, cwd=cwd)
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


def kill_trials(label, store, work, pristine, argv, next_command, trials, cwd=None, next_ok=False):
    """Kills `argv` (which writes over a copy of `pristine` at work/NAME) at random points;
    after each, runs `next_command` (which must undo what the kill left) and counts whether
    the folder is wholly the old or wholly the new, with the store sound and nothing left
    beside it (and, with `next_ok`, the next command exiting 0)."""
    proj = work_target(argv, cwd)
    name = os.path.basename(proj)

    def reset():
        shutil.rmtree(proj, ignore_errors=True)
        shutil.copytree(pristine, proj, symlinks=True)

    reset()
    old = snapshot(proj)
    full = duration(argv, reset, cwd)
    new = snapshot(proj)
    counts = {"done": 0, "undone": 0, "bad": 0, "killed": 0, "mixed": 0, "after": 0}
    for _ in range(trials):
        reset()
        counts["killed"] += killed(argv, random.uniform(0.0, full * 1.2), cwd)
        right_after = snapshot(proj)
        if right_after != old and right_after != new:
            counts["mixed"] += 1
        if right_after == new and leftovers(work, name):
            counts["after"] += 1
        out = run(store, *next_command, check=False)
        now = snapshot(proj)
        sound = store_is_sound(store) and not leftovers(work, name)
        if next_ok and out.returncode != 0:
            print(f"  {label}: {' '.join(next_command)} exited {out.returncode}: {out.stderr.strip()}", file=sys.stderr)
            sound = False
        if right_after not in (old, new) and "interrupted run" not in out.stderr:
            print(f"  {label}: the next command did not name the interrupted run", file=sys.stderr)
            sound = False
        why(label, now, old, new, leftovers(work, name))
        if now == new and sound:
            counts["done"] += 1
        elif now == old and sound:
            counts["undone"] += 1
        else:
            counts["bad"] += 1
    return full, counts


def work_target(argv, cwd):
    if "-o" in argv:
        out = argv[argv.index("-o") + 1]
        return os.path.normpath(os.path.join(cwd, out)) if cwd else out
    return argv[argv.index("upgrade") + 1]


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


def force_then_verify(work, trials, files, inside):
    """`generate --force` over a generated project, killed; then `verify` must exit 0. With
    `inside` the run works in the target (`-o .`), where the journal does the work."""
    store = os.path.join(work, "store-verify")
    old_t, new_t = os.path.join(work, "ver-old"), os.path.join(work, "ver-new")
    write_template(old_t, "gen", files, "old")
    write_template(new_t, "gen", files, "new")
    proj, pristine = os.path.join(work, "vproj"), os.path.join(work, "vproj-pristine")
    shutil.rmtree(pristine, ignore_errors=True)
    run(store, "generate", old_t, "-o", pristine, "--defaults")
    if inside:
        argv = [FACTORY, "--store", store, "generate", new_t, "-o", ".", "--defaults", "--force"]
        cwd = proj
    else:
        argv = [FACTORY, "--store", store, "generate", new_t, "-o", proj, "--defaults", "--force"]
        cwd = None
    label = "--force -o . + verify" if inside else "--force + verify"
    return kill_trials(label, store, work, pristine, argv, ["verify", proj], trials, cwd, next_ok=True)


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
    global FACTORY
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--files", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--factory", default=FACTORY, help="the binary (default: the release build)")
    parser.add_argument("--only", choices=["generate", "version", "upgrade"], help="one kind of command")
    args = parser.parse_args()
    random.seed(args.seed)
    FACTORY = os.path.abspath(args.factory)
    if not os.path.exists(FACTORY):
        raise SystemExit(f"{FACTORY} is missing: run `cargo build --release` first")
    bad = 0
    with tempfile.TemporaryDirectory() as work:
        print(f"{args.trials} trials each, {args.files} files, kill -9 at a uniform random point of 1.2 times a full run")
        print(f"{'command':<24} {'run (ms)':>9} {'killed':>7} {'mixed':>6} {'after':>6} {'done':>6} {'undone':>7} {'other':>6}")
        for kind, label, scenario in [
            ("generate", "generate --force", generate_force),
            ("generate", "--force + verify", lambda w, t, f: force_then_verify(w, t, f, False)),
            ("generate", "--force -o . + verify", lambda w, t, f: force_then_verify(w, t, f, True)),
            ("version", "version", version),
            ("upgrade", "upgrade --apply", upgrade_apply),
        ]:
            if args.only and args.only != kind:
                continue
            full, c = scenario(work, args.trials, args.files)
            bad += c["bad"]
            print(f"{label:<24} {full * 1000:>9.0f} {c['killed']:>7} {c.get('mixed', '-'):>6} {c.get('after', '-'):>6} {c['done']:>6} {c['undone']:>7} {c['bad']:>6}", flush=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
