"""Shared by the benchmark scripts: the release binary's path and synthetic log lines."""

import json
import os
import subprocess
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# FACTORY_BIN picks another build (a debug one, or an older binary for a before/after).
FACTORY = os.environ.get("FACTORY_BIN") or os.path.join(ROOT, "target", "release", "factory")


def uuid7():
    """A UUIDv7 (time-ordered), as factory writes them."""
    ms = int(time.time() * 1000)
    rand = uuid.uuid4().int
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand & ((1 << 12) - 1)) << 64 | 0b10 << 62 | (rand >> 64) & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def envelope(event_type, payload):
    """One log line (without its newline) for a synthetic event."""
    return json.dumps({
        "eventId": "evt-" + uuid7(), "eventType": event_type, "tenantId": "bench", "projectId": None,
        "moduleId": None, "traceId": uuid.uuid4().hex, "correlationId": "corr-bench", "causationId": None,
        "occurredAt": "2026-11-27T00:00:00.000Z", "payload": payload,
    }, separators=(",", ":"))


def make_test_ca(work):
    """A throw-away CA (work/ca.pem) and a certificate for 127.0.0.1 it signed
    (work/cert.pem, work/key.pem), made with `openssl`."""
    def sh(*args):
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=bench CA",
       "-keyout", f"{work}/ca.key", "-out", f"{work}/ca.pem")
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
       "-keyout", f"{work}/key.pem", "-out", f"{work}/req.csr")
    with open(f"{work}/ext", "w") as ext:
        ext.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    sh("openssl", "x509", "-req", "-in", f"{work}/req.csr", "-CA", f"{work}/ca.pem", "-CAkey", f"{work}/ca.key",
       "-CAcreateserial", "-days", "1", "-extfile", f"{work}/ext", "-out", f"{work}/cert.pem")
