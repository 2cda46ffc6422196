#!/usr/bin/env python3
"""Benchmark `factory worker` on RabbitMQ: GenerateScaffold of a 100-file template.

- Throughput: COMMANDS commands are queued first, then 1, 2 and 4 workers (one shared
  store, concurrency 1 each) are started and timed until every outcome is in the log.
- Latency: with 2 workers idle, `factory send --wait` at a steady rate, send to outcome,
  p50 and p99 (the sender's process start included: what a script sees).

Needs a broker: FACTORY_TEST_AMQP_URL (eval "$(scripts/rabbitmq-start)") and rabbitmqctl
for a vhost of its own per run.

Usage: cargo build --release && python3 scripts/bench_worker.py [--commands 200] [--latency-runs 50]
Asserts nothing. Nothing is deleted between runs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import FACTORY  # noqa: E402

NAME = "Bench.Worker"


def factory(env, *args, check=True, stdin=None):
    out = subprocess.run([FACTORY, *args], env=env, capture_output=True, text=True, input=stdin)
    if check and out.returncode != 0:
        raise SystemExit(f"factory {' '.join(args)} failed:\n{out.stderr}")
    return out


def vhost(base, name):
    subprocess.run(["rabbitmqctl", "-n", "factory-test@localhost", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-n", "factory-test@localhost", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)
    return base.rsplit("/", 1)[0] + "/" + name


def outcomes(store):
    try:
        with open(f"{store}/events.jsonl") as log:
            return sum(1 for line in log if '"eventType":"TemplateExecuted"' in line)
    except FileNotFoundError:
        return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--latency-runs", type=int, default=50)
    args = parser.parse_args()
    base = os.environ.get("FACTORY_TEST_AMQP_URL") or sys.exit("FACTORY_TEST_AMQP_URL is not set: run scripts/rabbitmq-start")
    work = tempfile.mkdtemp(prefix="factory-bench-worker-")
    template = f"{work}/tpl"
    os.makedirs(f"{template}/src")
    open(f"{template}/template.yaml", "w").write(
        f"name: {NAME}\ntitle: Worker bench\ncategory: service\nparameters:\n  - name: service_name\n    type: string\n    default: orders\n")
    for i in range(100):
        open(f"{template}/src/f{i:03}.txt", "w").write(f"{{{{ service_name }}}} {i}\n" + "x" * 500 + "\n")
    print(f"{'workers':>8} {'commands':>9} {'seconds':>8} {'commands/s':>11}")
    for workers in (1, 2, 4):
        store = f"{work}/store-{workers}"
        env = {"PATH": os.environ["PATH"], "HOME": work, "FACTORY_STORE": store, "NO_COLOR": "1"}
        factory(env, "register", template)
        factory(env, "version", NAME, "--version", "1.0.0")
        factory(env, "validate", f"{NAME}@1.0.0")
        factory(env, "publish", f"{NAME}@1.0.0")
        url = vhost(base, f"bench-{workers}-{os.getpid()}")
        before = outcomes(store)
        for i in range(args.commands):
            payload = json.dumps({"template": NAME, "target": {"folder": f"w{workers}-{i:04}"}})
            factory(env, "send", "GenerateScaffold", "--to", url, "--payload", "-", stdin=payload)
        started = time.perf_counter()
        procs = [subprocess.Popen([FACTORY, "worker", "--from", url, "--services", "scaffold-engine", "--concurrency", "1",
                                   "--output-root", f"{work}/out-{workers}"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
        while outcomes(store) - before < args.commands:
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        print(f"{workers:>8} {args.commands:>9} {seconds:>8.2f} {args.commands / seconds:>11.1f}")
        if workers == 2:
            latencies = []
            for i in range(args.latency_runs):
                payload = json.dumps({"template": NAME, "target": {"folder": f"lat-{i:04}"}})
                sent = time.perf_counter()
                factory(env, "send", "GenerateScaffold", "--to", url, "--payload", "-", "--wait", stdin=payload)
                latencies.append(time.perf_counter() - sent)
                time.sleep(0.1)
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(f"send --wait to outcome, 2 workers, {args.latency_runs} at ~{1 / (0.1 + statistics.median(latencies)):.0f}/s: "
                  f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()


if __name__ == "__main__":
    main()
