"""No secret reaches a log file or a response, and logs trace a request into the workers.

A whole dev stack runs at DEBUG with a known Azure client secret and webhook secret. The test
creates an API key and a webhook subscription, sends transactions (one that reverts, one
with a wrong key, one with the client secret as its "key"), provokes errors, reads /status
and the probes, and then searches every log file of the stack (API, workers, beat, anvil,
the emulator) and every response for each secret. The single response that hands out a
subscription's secret by design (its creation) is the only exception.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from ops.devstack import DevStack
from ops.processes import ROOT, free_port, wait_until
from tests.integration.stack_helpers import (
    REVERT_NOPE_INITCODE,
    get_tx,
    use_stack,
    wait_terminal,
)

pytestmark = pytest.mark.integration

CLIENT_SECRET = "hygiene-client-secret-" + "Qz7" * 10
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"hygiene webhook secret 32 bytes!").decode()
REQUEST_ID = "hygiene-req.0001"
REVERT_REQUEST_ID = "hygiene-req.0002"


class Receiver:
    """A webhook receiver on a free loopback port that answers 204 to everything."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.server.shutdown()


def known_client_secret(data_dir: Path) -> None:
    """Give the emulator (so the whole stack) our client secret: it reads its credentials
    from this file when it exists."""
    directory = data_dir / "keyvault"
    directory.mkdir(parents=True)
    (directory / "credentials.json").write_text(json.dumps({
        "tenant_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()),
        "client_secret": CLIENT_SECRET, "admin_token": uuid.uuid4().hex,
        "token_key": os.urandom(32).hex()}))


class Client:
    """Sends requests to the stack and keeps every response for the final search."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.responses: list[requests.Response] = []

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        resp = requests.request(method, self.api + path, timeout=60, **kwargs)
        self.responses.append(resp)
        return resp

    def text(self, skip: requests.Response) -> str:
        return "\n".join(f"{r.headers}\n{r.text}" for r in self.responses if r is not skip)


def json_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def exercise(dev: DevStack, call: Client, receiver: Receiver) -> dict[str, Any]:
    """Drive the stack through its success and error paths; returns what was made."""
    sender, other = dev.info["accounts"]
    made = subprocess.run([sys.executable, "-m", "ops.cli", "apikey", "create", "hygiene"],
                          cwd=ROOT, env=dev.env, capture_output=True, text=True, timeout=60,
                          check=True)
    cli_key = made.stdout.strip()
    own = {"Authorization": f"Bearer {cli_key}"}
    sub = call("POST", "/webhooks", json={"url": receiver.url}, headers=own)
    assert sub.status_code == 201, sub.text
    ok = call("POST", "/transactions", headers={**own, "X-Request-Id": REQUEST_ID},
              json={"from": sender, "to": other, "value": "7", "webhookUrl": receiver.url})
    reverting = call("POST", "/transactions", headers={"X-Request-Id": REVERT_REQUEST_ID},
                     json={"from": sender, "data": REVERT_NOPE_INITCODE})
    assert ok.status_code == reverting.status_code == 202, (ok.text, reverting.text)
    wrong = cli_key[:-6] + "abcdef"
    for bad in (wrong, CLIENT_SECRET, WEBHOOK_SECRET):
        refused = call("POST", "/transactions", headers={"Authorization": f"Bearer {bad}"},
                       json={"from": sender, "to": other, "value": "1"})
        assert refused.status_code == 401
    call("POST", "/transactions", data="{", headers={"Content-Type": "application/json"})
    call("POST", "/transactions", json={"from": "0x" + "11" * 20, "to": other})
    call("POST", "/transactions", json={"from": sender, "to": other,
                                        "webhookUrl": "http://169.254.169.254/x"})
    call("GET", "/transactions/" + "0" * 32)
    call("POST", "/rpc", json={"jsonrpc": "2.0", "id": 1, "method": "eth_sign",
                               "params": [sender, "0x68656c6c6f"]})
    call("POST", "/rpc", json={"jsonrpc": "2.0", "id": 2, "method": "debug_traceBlock"})
    for path in ("/status", "/readyz", "/healthz", "/metrics", "/openapi.json", "/webhooks"):
        call("GET", path)
    call("GET", "/status", headers={"Authorization": f"Bearer {wrong}"})
    ids = [ok.json()["id"], reverting.json()["id"]]
    done = wait_terminal(dev.info["api"], ids, 120)
    assert done[ids[0]]["status"] == "confirmed" and done[ids[1]]["status"] == "failed"
    wait_until(lambda: len(receiver.bodies) >= 2, 60, "webhook deliveries")
    call("GET", f"/transactions/{ids[0]}")
    call("GET", "/webhooks/deliveries")
    return {"cli_key": cli_key, "wrong": wrong, "subscription": sub,
            "sub_secret": sub.json()["secret"], "ok": ids[0], "reverted": ids[1]}


def test_no_secret_in_logs_or_responses_and_logs_trace_requests(
        tmp_path: Path, receiver: Receiver) -> None:
    data_dir = tmp_path / "hygiene"
    known_client_secret(data_dir)
    dev = DevStack(data_dir, api_port=free_port(), workers=1, keys=2, worker_concurrency=4,
                   emulator_args=["--log-requests"],
                   extra_env={"KVSIGNER_WEBHOOK_SECRET": WEBHOOK_SECRET,
                              "KVSIGNER_LOG_LEVEL": "DEBUG",
                              "KVSIGNER_RECEIPT_POLL_SECONDS": "0.5",
                              "KVSIGNER_WEBHOOK_RETRY_SCHEDULE": "0.5"})
    try:
        use_stack(dev.start())
        assert dev.env["AZURE_CLIENT_SECRET"] == CLIENT_SECRET
        call = Client(dev.info["api"])
        made = exercise(dev, call, receiver)
        assert get_tx(dev.info["api"], made["ok"])["status"] == "confirmed"
    finally:
        dev.stop()

    logs = [*sorted((data_dir / "logs").glob("*.log")), data_dir / "keyvault" / "emulator.log"]
    assert {p.name for p in logs} >= {"api.log", "worker-w1.log", "beat.log", "emulator.log"}
    secrets = {"client secret": CLIENT_SECRET, "webhook secret": WEBHOOK_SECRET,
               "subscription secret": made["sub_secret"], "dev key": dev.info["apiKey"],
               "cli key": made["cli_key"], "wrong key": made["wrong"]}
    for name in ("dev key", "cli key", "wrong key"):  # the secret part alone, too
        secrets[f"{name} secret part"] = secrets[name].split("_", 2)[2]
    texts = {p.name: p.read_text(errors="replace") for p in logs}
    texts["responses"] = call.text(skip=made["subscription"])
    for where, text in texts.items():
        for name, secret in secrets.items():
            assert secret not in text, f"{name} found in {where}"

    # The reverted transaction's request id and tx id are on an API line and a worker line.
    api_lines = json_lines(data_dir / "logs" / "api.log")
    worker_lines = json_lines(data_dir / "logs" / "worker-w1.log")
    for lines in (api_lines, worker_lines):
        assert any(e.get("tx_id") == made["reverted"]
                   and e.get("request_id") == REVERT_REQUEST_ID for e in lines)
    posted = [e for e in api_lines if e.get("tx_id") == made["ok"]
              and e.get("request_id") == REQUEST_ID]
    assert posted and posted[0]["api_key"] == "hygiene" and posted[0]["status"] == 202
    # Celery's own records are JSON lines too.
    assert any(e["logger"].startswith("celery.") for e in worker_lines)
