#!/usr/bin/env python3
"""Smart HTTP for git over TLS, for the tests: `git http-backend` as a CGI program behind
Python's http.server, with Basic auth. Loopback only. Each request is logged as
`METHOD PATH STATUS BYTES` so a test can count what was transferred.

    git-https-server.py --root DIR --cert CERT --key KEY [--user U --password P]
                        --port-file FILE --log FILE
"""
import argparse
import base64
import http.server
import os
import ssl
import subprocess
import threading

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True)
parser.add_argument("--cert", required=True)
parser.add_argument("--key", required=True)
parser.add_argument("--user")
parser.add_argument("--password")
parser.add_argument("--port-file", required=True)
parser.add_argument("--log", required=True)
args = parser.parse_args()
log_lock = threading.Lock()


def read_chunked(stream):
    body = b""
    while True:
        size = int(stream.readline().strip().split(b";")[0], 16)
        if size == 0:
            stream.readline()
            return body
        body += stream.read(size)
        stream.readline()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def do_GET(self):
        self.cgi()

    def do_POST(self):
        self.cgi()

    def record(self, status, size):
        with log_lock, open(args.log, "a") as log:
            log.write(f"{self.command} {self.path} {status} {size}\n")

    def cgi(self):
        if args.user:
            token = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
            if self.headers.get("Authorization", "") != f"Basic {token}":
                if self.headers.get("Content-Length"):
                    self.rfile.read(int(self.headers["Content-Length"]))
                elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    read_chunked(self.rfile)
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.record(401, 0)
                return
        path, _, query = self.path.partition("?")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = read_chunked(self.rfile)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = dict(os.environ)
        env.update(
            GIT_PROJECT_ROOT=args.root,
            GIT_HTTP_EXPORT_ALL="1",
            PATH_INFO=path,
            QUERY_STRING=query,
            REQUEST_METHOD=self.command,
            CONTENT_TYPE=self.headers.get("Content-Type", ""),
            CONTENT_LENGTH=str(len(body)),
            REMOTE_USER=args.user or "",
            REMOTE_ADDR="127.0.0.1",
        )
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True
        ).stdout
        split = out.find(b"\r\n\r\n")
        sep = 4
        if split < 0:
            split, sep = out.find(b"\n\n"), 2
        head, rest = out[:split], out[split + sep :]
        status, headers = 200, []
        for line in head.replace(b"\r\n", b"\n").split(b"\n"):
            if not line:
                continue
            name, _, value = line.decode().partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        self.wfile.write(rest)
        self.record(status, len(rest))


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(args.cert, args.key)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
server.serve_forever()
