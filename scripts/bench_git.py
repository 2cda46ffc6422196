#!/usr/bin/env python3
"""Benchmark `factory generate` of a 1,000-file template from a loopback HTTPS git server:
cold (empty clone cache) and warm, next to cookiecutter and `copier copy` on the same URLs.

The server is scripts/git-https-server.py (`git http-backend` behind TLS) with a certificate
from a throw-away CA made here with `openssl`; every tool trusts it through GIT_SSL_CAINFO.
cookiecutter and copier come from virtual environments under target/ (the test suite's, or
made here from PyPI).

Usage: cargo build --release && python3 scripts/bench_git.py [--files 1000] [--runs 3]
Prints medians; asserts nothing. Nothing is deleted between runs.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import FACTORY, ROOT, make_test_ca  # noqa: E402


def sh(*args, **kwargs):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)


def tool(package, version, binary):
    for base in ("test-venvs", "bench-venvs"):
        path = os.path.join(ROOT, "target", base, f"{package}-{version}", "bin", binary)
        if os.path.exists(path):
            return path
    venv = os.path.join(ROOT, "target", "bench-venvs", f"{package}-{version}")
    sh(sys.executable, "-m", "venv", venv)
    sh(os.path.join(venv, "bin", "pip"), "install", "--quiet", f"{package}=={version}")
    return os.path.join(venv, "bin", binary)


def repository(root, name, files):
    """A bare repository `name.git` holding a template of `files` files in both layouts."""
    work = os.path.join(root, name + "-work")
    os.makedirs(work)
    body = "".join(f"line {i}: {{{{ {{var}} }}}}\n" for i in range(40))
    if name == "cc":
        open(os.path.join(work, "cookiecutter.json"), "w").write('{"project": "bench", "owner": "ada"}\n')
        content = os.path.join(work, "{{cookiecutter.project}}")
        var, suffix = "cookiecutter.owner", ""
    else:
        open(os.path.join(work, "copier.yml"), "w").write("project: bench\nowner: ada\n")
        content = work
        var, suffix = "owner", ".jinja"
    for i in range(files):
        folder = os.path.join(content, f"pkg{i % 20}", f"mod{i % 7}")
        os.makedirs(folder, exist_ok=True)
        open(os.path.join(folder, f"file{i}.txt{suffix}"), "w").write(body.replace("{var}", var))
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@l", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@l")
    sh("git", "init", "-q", "-b", "main", cwd=work)
    sh("git", "add", "-A", cwd=work, env=env)
    sh("git", "commit", "-qm", "template", cwd=work, env=env)
    sh("git", "clone", "-q", "--bare", work, os.path.join(root, name + ".git"))


def timed(args, env, cwd):
    start = time.perf_counter()
    subprocess.run(args, check=True, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="factory-bench-git-")
    served = os.path.join(work, "served")
    os.makedirs(served)
    for name in ("cc", "cp"):
        repository(served, name, args.files)
    make_test_ca(work)
    port_file = f"{work}/port"
    server = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "git-https-server.py"),
                               "--root", served, "--cert", f"{work}/cert.pem", "--key", f"{work}/key.pem",
                               "--port-file", port_file, "--log", f"{work}/https.log"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not os.path.exists(port_file):
            time.sleep(0.05)
        port = open(port_file).read().strip()
        base = f"https://127.0.0.1:{port}"
        env = dict(os.environ, GIT_SSL_CAINFO=f"{work}/ca.pem", HOME=work, FACTORY_STORE=f"{work}/store",
                   XDG_CACHE_HOME=f"{work}/cache-warm", NO_COLOR="1")
        cookiecutter = tool("cookiecutter", "2.6.0", "cookiecutter")
        copier = tool("copier", "9.4.1", "copier")
        rows = []
        n = [0]

        def out():
            n[0] += 1
            return os.path.join(work, f"out{n[0]}")

        for name, url in (("cookiecutter template", f"{base}/cc.git"), ("copier template", f"{base}/cp.git")):
            cold = [timed([FACTORY, "generate", url, "-o", out(), "--defaults"],
                          dict(env, XDG_CACHE_HOME=f"{work}/cache-cold-{n[0]}"), work) for _ in range(args.runs)]
            timed([FACTORY, "generate", url, "-o", out(), "--defaults"], env, work)
            warm = [timed([FACTORY, "generate", url, "-o", out(), "--defaults"], env, work) for _ in range(args.runs)]
            rows.append((f"factory, {name}, cold", cold))
            rows.append((f"factory, {name}, warm", warm))
            if name.startswith("cookiecutter"):
                ref = [timed([cookiecutter, "--no-input", "-f", "-o", out(), url], env, work) for _ in range(args.runs)]
                rows.append(("cookiecutter 2.6.0", ref))
            else:
                ref = [timed([copier, "copy", "--defaults", "--quiet", url, out()], env, work) for _ in range(args.runs)]
                rows.append(("copier 9.4.1 copy", ref))
        print(f"{args.files}-file template over loopback HTTPS, median of {args.runs} runs")
        for label, times in rows:
            print(f"  {label:<40} {statistics.median(times) * 1000:8.0f} ms")
        print(f"work folder (remove it yourself): {work}")
    finally:
        server.kill()


if __name__ == "__main__":
    main()
