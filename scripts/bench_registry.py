#!/usr/bin/env python3
"""Benchmark publishing to and pulling from an OCI registry on loopback: CNCF Distribution
(Debian's docker-registry, scripts/registry-install) with TLS from a throw-away CA made with
`openssl`, htpasswd Basic auth.

Measures, with the release binary:
- publish of a FILES-file template, first version (every blob uploaded);
- publish of the next version with 10 files changed (only their blobs travel);
- on a fresh store: `generate` that pulls the version first, then `generate` again (local);
with the bytes and requests each push sent (factory's own report) and the blob PUTs the
registry logged.

Usage: cargo build --release && python3 scripts/bench_registry.py [--files 1000] [--auth basic|none]
Asserts nothing. Nothing is deleted between runs.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import FACTORY, make_test_ca  # noqa: E402

USER, PASSWORD = "bench", "bench-password-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry(work, auth):
    make_test_ca(work)
    htpasswd = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True).stdout
    open(f"{work}/htpasswd", "wb").write(htpasswd)
    port = free_port()
    open(f"{work}/config.yml", "w").write(f"""version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: {work}/data
http:
  addr: 127.0.0.1:{port}
  tls:
    certificate: {work}/cert.pem
    key: {work}/key.pem
""" + ("" if auth == "none" else f"""auth:
  htpasswd:
    realm: bench
    path: {work}/htpasswd
"""))
    log = open(f"{work}/registry.log", "w")
    server = subprocess.Popen(["/usr/bin/docker-registry", "serve", f"{work}/config.yml"],
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                raise SystemExit("the registry did not start")
            time.sleep(0.05)
    return server, f"127.0.0.1:{port}"


def puts(work):
    text = open(f"{work}/registry.log").read()
    return sum(1 for line in text.splitlines() if '"PUT /v2/' in line and "/blobs/uploads/" in line)


def run(env, *args, stdin=None):
    started = time.perf_counter()
    before = os.times()
    out = subprocess.run([FACTORY, *args], env=env, input=stdin, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = os.times()
    run.cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if out.returncode != 0:
        raise SystemExit(f"factory {' '.join(args)} failed:\n{out.stderr}")
    return elapsed, out.stdout


def store_env(work, name, host, auth):
    env = {"PATH": os.environ["PATH"], "HOME": f"{work}/{name}-home", "FACTORY_STORE": f"{work}/{name}",
           "SSL_CERT_FILE": f"{work}/ca.pem", "NO_COLOR": "1"}
    os.makedirs(env["HOME"], exist_ok=True)
    run(env, "remote", "add", "shared", f"oci://{host}/bench", "--default")
    if auth != "none":
        run(env, "login", host, "--username", USER, "--password-stdin", stdin=PASSWORD + "\n")
    return env


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--auth", choices=["basic", "none"], default="basic",
                        help="htpasswd Basic auth (bcrypt on every request, as Distribution checks it) or none")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="factory-bench-registry-")
    server, host = start_registry(work, args.auth)
    try:
        a = store_env(work, "a", host, args.auth)
        template = f"{work}/tpl"
        os.makedirs(f"{template}/src")
        open(f"{template}/template.yaml", "w").write(
            "name: Bench.Registry\ntitle: Registry bench\ncategory: service\nparameters:\n"
            "  - name: service_name\n    type: string\n    default: orders\n")
        for i in range(args.files):
            open(f"{template}/src/f{i:05}.txt", "w").write(f"{{{{ service_name }}}} {i}\n" + "x" * 1000 + "\n")
        rows = []
        for version, changed in (("1.0.0", 0), ("1.1.0", 10)):
            for i in range(changed):
                open(f"{template}/src/f{i:05}.txt", "w").write(f"changed {i}\n")
            if version == "1.0.0":
                run(a, "register", template)
            run(a, "version", "Bench.Registry", "--from", template, "--version", version)
            run(a, "validate", f"Bench.Registry@{version}")
            before = puts(work)
            seconds, out = run(a, "publish", f"Bench.Registry@{version}", "--json")
            pushed = json.loads(out)["pushed"]
            rows.append((f"publish {version} ({changed or args.files} files new)", seconds,
                         f"factory CPU {run.cpu * 1000:.0f} ms; {pushed['blobsUploaded']} blobs, {pushed['bytesSent']} bytes, "
                         f"{pushed['requests']} requests; registry logged {puts(work) - before} blob PUTs"))
        b = store_env(work, "b", host, args.auth)
        seconds, out = run(b, "generate", "Bench.Registry", "-o", f"{work}/out1", "--defaults", "--json")
        rows.append(("generate on a fresh store (pull + render)", seconds,
                     f"factory CPU {run.cpu * 1000:.0f} ms; {json.loads(out)['contentHash']}"))
        seconds, out = run(b, "generate", "Bench.Registry", "-o", f"{work}/out2", "--defaults", "--json")
        rows.append(("generate again (local)", seconds, json.loads(out)["contentHash"]))
        for what, seconds, detail in rows:
            print(f"{what:45} {seconds * 1000:8.0f} ms   {detail}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
