#!/usr/bin/env python3
"""Benchmark publishing to and pulling from an OCI registry on loopback: CNCF Distribution
(Debian's docker-registry, scripts/registry-install) with TLS from a throw-away CA made with
`openssl`, htpasswd Basic auth.

Measures, with the release binary:
- publish of a FILES-file template, first version (every blob uploaded);
- publish of the next version with 10 files changed (only their blobs travel);
- on a fresh store: `generate` that pulls the version first, then `generate` again (local);
with the bytes and requests each push sent (factory's own report) and the blob PUTs the
registry logged; and beside them a reference client (Python's http.client, one kept-alive
connection per thread, PARALLEL threads as factory keeps requests in flight) doing the same
blob uploads (POST + PUT each, as CNCF Distribution takes them) and downloads (GET each) of
as many blobs of the same size: the registry's own cost at that parallelism. Every row also
shows the CPU time the registry process spent on it (read from /proc), which tells a run
bound by the registry from one bound by its client. The registry inherits this script's
environment: `GOGC=400 python3 scripts/bench_registry.py …` runs it with a lazier garbage
collector, which shows how much of a run's time is the registry's own.

Usage: cargo build --release && python3 scripts/bench_registry.py [--files 1000] [--auth basic|none] [--parallel 8]
       [--storage disk|tmpfs|inmemory]
(FACTORY_BIN=target/debug/factory picks another binary.)
Asserts nothing. Nothing is deleted between runs.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import FACTORY, make_test_ca  # noqa: E402

USER, PASSWORD = "bench", "bench-password-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry(work, auth, storage):
    make_test_ca(work)
    htpasswd = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True).stdout
    open(f"{work}/htpasswd", "wb").write(htpasswd)
    port = free_port()
    open(f"{work}/config.yml", "w").write(f"""version: 0.1
log:
  level: info
  formatter: text
storage:
{storage_section(work, storage)}
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


def storage_section(work, storage):
    """The registry's storage: its data folder on this disk (`disk`), in a folder under
    /dev/shm (`tmpfs`), or Distribution's in-memory driver (`inmemory`): the last two show
    what the registry costs when its disk does not."""
    if storage == "inmemory":
        return "  inmemory: {}"
    root = f"{work}/data" if storage == "disk" else tempfile.mkdtemp(prefix="factory-bench-registry-", dir="/dev/shm")
    return f"  filesystem:\n    rootdirectory: {root}"


def registry_cpu(server):
    """Seconds of CPU (user + system) the registry process has used so far."""
    fields = open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def puts(work):
    text = open(f"{work}/registry.log").read()
    return sum(1 for line in text.splitlines() if '"PUT /v2/' in line and "/blobs/uploads/" in line)


def reference_client(work, host, auth, blobs, parallel, server_cpu):
    """Uploads `blobs` to bench/reference (POST, then PUT to the Location) and reads them
    back (GET), `parallel` threads with a kept-alive HTTPS connection each. Returns the
    seconds each took and the registry's CPU seconds (`server_cpu()`) during each."""
    context = ssl.create_default_context(cafile=f"{work}/ca.pem")
    address, port = host.split(":")
    headers = {}
    if auth != "none":
        headers["Authorization"] = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def worker(items, action, errors):
        connection = http.client.HTTPSConnection(address, int(port), context=context)
        try:
            for blob in items:
                action(connection, blob)
        except Exception as e:  # noqa: BLE001 - reported after the threads end
            errors.append(repr(e))
        finally:
            connection.close()

    def request(connection, method, path, body=None, extra=None):
        connection.request(method, path, body=body, headers={**headers, **(extra or {})})
        response = connection.getresponse()
        data = response.read()
        return response, data

    def upload(connection, blob):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        response, _ = request(connection, "POST", "/v2/bench/reference/blobs/uploads/")
        if response.status != 202:
            raise RuntimeError(f"POST answered {response.status}")
        location = urllib.parse.urlsplit(response.getheader("Location"))
        query = (location.query + "&" if location.query else "") + "digest=" + digest
        response, _ = request(connection, "PUT", f"{location.path}?{query}", blob,
                              {"Content-Type": "application/octet-stream"})
        if response.status != 201:
            raise RuntimeError(f"PUT answered {response.status}")

    def download(connection, blob):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        response, data = request(connection, "GET", f"/v2/bench/reference/blobs/{digest}")
        if response.status != 200 or data != blob:
            raise RuntimeError(f"GET answered {response.status}")

    timings = []
    for action in (upload, download):
        errors = []
        shares = [blobs[i::parallel] for i in range(parallel)]
        threads = [threading.Thread(target=worker, args=(share, action, errors)) for share in shares]
        started, cpu = time.perf_counter(), server_cpu()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        timings.append((time.perf_counter() - started, server_cpu() - cpu))
        if errors:
            raise SystemExit(f"the reference client failed: {errors[0]}")
    return timings


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
           "SSL_CERT_FILE": f"{work}/ca.pem", "NO_COLOR": "1",
           "FACTORY_REGISTRY_PARALLEL": os.environ["FACTORY_REGISTRY_PARALLEL"]}
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
    parser.add_argument("--parallel", type=int, default=8,
                        help="requests in flight (FACTORY_REGISTRY_PARALLEL, and the reference client's threads)")
    parser.add_argument("--storage", choices=["disk", "tmpfs", "inmemory"], default="disk",
                        help="where the registry keeps blobs (see storage_section)")
    args = parser.parse_args()
    os.environ["FACTORY_REGISTRY_PARALLEL"] = str(args.parallel)
    work = tempfile.mkdtemp(prefix="factory-bench-registry-")
    server, host = start_registry(work, args.auth, args.storage)
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

        def measured(what, step, detail):
            """Runs `step` (-> seconds, output) and adds its row, with the registry's CPU."""
            cpu = registry_cpu(server)
            seconds, out = step()
            rows.append((what, seconds, registry_cpu(server) - cpu, detail(out)))

        for version, changed in (("1.0.0", 0), ("1.1.0", 10)):
            for i in range(changed):
                open(f"{template}/src/f{i:05}.txt", "w").write(f"changed {i}\n")
            if version == "1.0.0":
                run(a, "register", template)
            run(a, "version", "Bench.Registry", "--from", template, "--version", version)
            run(a, "validate", f"Bench.Registry@{version}")
            before = puts(work)

            def pushed(out):
                report = json.loads(out)["pushed"]
                return (f"factory CPU {run.cpu * 1000:.0f} ms; {report['blobsUploaded']} blobs, {report['bytesSent']} bytes, "
                        f"{report['requests']} requests; registry logged {puts(work) - before} blob PUTs")
            measured(f"publish {version} ({changed or args.files} files new)",
                     lambda: run(a, "publish", f"Bench.Registry@{version}", "--json"), pushed)
        b = store_env(work, "b", host, args.auth)
        measured("generate on a fresh store (pull + render)",
                 lambda: run(b, "generate", "Bench.Registry", "-o", f"{work}/out1", "--defaults", "--json"),
                 lambda out: f"factory CPU {run.cpu * 1000:.0f} ms; {json.loads(out)['contentHash']}")
        measured("generate again (local)",
                 lambda: run(b, "generate", "Bench.Registry", "-o", f"{work}/out2", "--defaults", "--json"),
                 lambda out: json.loads(out)["contentHash"])
        blobs = [f"reference {i}\n".encode() + b"x" * 1000 + b"\n" for i in range(args.files)]
        (up, up_cpu), (down, down_cpu) = reference_client(work, host, args.auth, blobs, args.parallel,
                                                          lambda: registry_cpu(server))
        rows.append((f"reference client: upload {args.files} blobs", up, up_cpu,
                     f"POST + PUT each, {args.parallel} connections"))
        rows.append((f"reference client: download {args.files} blobs", down, down_cpu,
                     f"GET each, {args.parallel} connections"))
        print(f"{'':45} {'wall':>8}      {'registry CPU':>12}")
        for what, seconds, cpu, detail in rows:
            print(f"{what:45} {seconds * 1000:8.0f} ms   {cpu * 1000:8.0f} ms   {detail}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
