"""A JSON-RPC HTTP proxy between kvsigner and anvil, run inside the test process.

It forwards every request unchanged and, on the side:

- taps every ``eth_sendRawTransaction``: the decoded (hash, sender, nonce) of each raw
  transaction kvsigner broadcast, whether the node accepted it or not, so the invariants can
  tell which nonce every signed hash was for, including replaced and refused ones;
- can hold requests that match a predicate until the test releases them, which freezes a
  worker at a known point (e.g. inside the nonce critical section, where it asks the node
  for the pending count) without any hook in kvsigner's code; or forward them at once and
  hold only the answer, so the caller acts later on what the node said earlier;
- can run a callback right after it has answered a matching request, with the process id of
  the caller (found through /proc), e.g. to SIGKILL a worker right after its broadcast.

Only Linux is supported (the caller's pid comes from /proc/net/tcp and /proc/<pid>/fd).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
import rlp
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak
from hexbytes import HexBytes

Predicate = Callable[[str, list[Any]], bool]
AfterReply = Callable[[str, list[Any], int | None], None]


@dataclass(frozen=True)
class SeenTx:
    """One raw transaction that went through the proxy to the node."""

    hash: str
    sender: str
    nonce: int
    accepted: bool
    answer: str  # the node's result or error message


@dataclass
class HeldCall:
    """A request (or its answer) the proxy is holding back; ``pid`` is the calling process
    (if found), ``answer`` the node's answer when only the reply is held."""

    method: str
    params: list[Any]
    pid: int | None
    answer: Any = None
    released: threading.Event = field(default_factory=threading.Event)


@dataclass(eq=False)
class HoldRule:
    """Which requests to hold (``predicate``), whether only their answers (``reply``), the
    calls it holds right now, and every call it held, in order of arrival (``arrived``)."""

    predicate: Predicate
    reply: bool = False
    calls: list[HeldCall] = field(default_factory=list)
    arrived: queue.Queue[HeldCall] = field(default_factory=queue.Queue)


def decode_raw(raw_hex: str) -> tuple[str, str, int]:
    """(hash, sender, nonce) of a signed raw transaction (legacy or typed)."""
    raw = bytes.fromhex(raw_hex.removeprefix("0x"))
    sender = Account.recover_transaction(raw)
    if raw and raw[0] <= 0x7F:
        nonce = int(TypedTransaction.from_bytes(HexBytes(raw)).as_dict()["nonce"])
    else:
        fields = rlp.decode(raw)
        nonce = int.from_bytes(fields[0], "big")
    return "0x" + keccak(raw).hex(), str(sender), nonce


def _hex_port(text: str) -> int:
    return int(text.rsplit(":", 1)[1], 16)


def peer_pid(client_port: int, server_port: int, candidates: Iterable[int]) -> int | None:
    """The pid among ``candidates`` that owns the TCP connection from ``client_port`` to
    ``server_port`` on this machine, or None."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in fh.readlines()[1:]:
                cols = line.split()
                if (len(cols) > 9 and _hex_port(cols[1]) == client_port
                        and _hex_port(cols[2]) == server_port):
                    inode = cols[9]
                    break
        if inode:
            break
    if not inode:
        return None
    wanted = f"socket:[{inode}]"
    for pid in candidates:
        fd_dir = f"/proc/{pid}/fd"
        with contextlib.suppress(OSError):
            for fd in os.listdir(fd_dir):
                with contextlib.suppress(OSError):
                    if os.readlink(f"{fd_dir}/{fd}") == wanted:
                        return pid
    return None


class NodeProxy:
    """Forwards JSON-RPC over HTTP to ``upstream``; ``url`` is where clients connect.

    ``candidate_pids`` lists the processes a caller may be (for ``HeldCall.pid`` and the
    after-reply callback); it is called when needed, so it may follow workers that come and go.
    """

    def __init__(self, upstream: str, candidate_pids: Callable[[], Iterable[int]] = list,
                 upstream_timeout: float = 60.0, hold_timeout: float = 60.0) -> None:
        self.upstream = upstream
        self.candidate_pids = candidate_pids
        self.upstream_timeout = upstream_timeout
        self.hold_timeout = hold_timeout
        self.seen: list[SeenTx] = []
        self.held: queue.Queue[HeldCall] = queue.Queue()
        self._rules: list[HoldRule] = []
        self._after: tuple[Predicate, AfterReply] | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="node-proxy", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NodeProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release_all()
        self._server.shutdown()
        self._server.server_close()

    # --- fault controls -------------------------------------------------------------------
    def hold_when(self, predicate: Predicate, reply: bool = False) -> HoldRule:
        """Hold every request matching ``predicate`` until the rule is dropped
        (``stop_holding``/``release_all``); each held request is also put on ``self.held``
        as it arrives. With ``reply`` the request goes to the node at once and only its
        answer is held back. The first matching rule applies."""
        rule = HoldRule(predicate, reply)
        with self._lock:
            self._rules.append(rule)
        return rule

    def stop_holding(self, rule: HoldRule) -> None:
        """Drop ``rule`` and let the requests it holds through."""
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)
            calls, rule.calls = rule.calls, []
        for call in calls:
            call.released.set()

    def release_all(self) -> None:
        """Drop every rule and let every held request through."""
        with self._lock:
            rules = list(self._rules)
        for rule in rules:
            self.stop_holding(rule)

    def after_reply_once(self, predicate: Predicate, callback: AfterReply) -> None:
        """Run ``callback(method, params, pid)`` right after answering the next request that
        matches ``predicate`` (once)."""
        with self._lock:
            self._after = (predicate, callback)

    def seen_by_hash(self) -> dict[str, SeenTx]:
        with self._lock:
            return {s.hash: s for s in self.seen}

    # --- plumbing -------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _pid_of(self, client_port: int) -> int | None:
        return peer_pid(client_port, self.port, list(self.candidate_pids()))

    def _decide(self, method: str, params: list[Any]) -> tuple[HoldRule | None,
                                                                 AfterReply | None]:
        """The hold rule that applies, and the after-reply callback, if any."""
        with self._lock:
            rule = next((r for r in self._rules if r.predicate(method, params)), None)
            after = None
            if self._after is not None and self._after[0](method, params):
                after, self._after = self._after[1], None
        return rule, after

    def _wait(self, rule: HoldRule, method: str, params: list[Any], client_port: int,
              answer: bytes | None = None) -> None:
        reply: Any = None
        if answer is not None:
            with contextlib.suppress(ValueError):
                reply = json.loads(answer)
        call = HeldCall(method, params, self._pid_of(client_port), reply)
        with self._lock:
            still = rule in self._rules
            if still:
                rule.calls.append(call)
        if still:
            rule.arrived.put(call)
            self.held.put(call)
            call.released.wait(self.hold_timeout)

    def _forward(self, body: bytes) -> tuple[int, bytes]:
        try:
            resp = self._session().post(self.upstream, data=body, timeout=self.upstream_timeout,
                                        headers={"Content-Type": "application/json"})
        except requests.RequestException as exc:
            return 502, json.dumps({"error": f"proxy: {type(exc).__name__}"}).encode()
        return resp.status_code, resp.content

    def _tap(self, request: Any, status: int, answer: bytes) -> None:
        if not isinstance(request, dict) or request.get("method") != "eth_sendRawTransaction":
            return
        params = request.get("params") or []
        if not params or not isinstance(params[0], str):
            return
        try:
            tx_hash, sender, nonce = decode_raw(params[0])
        except Exception:  # not ours to judge: the node answers malformed input itself
            return
        text, accepted = f"HTTP {status}", False
        with contextlib.suppress(ValueError):
            reply = json.loads(answer)
            if isinstance(reply, dict) and "result" in reply:
                text, accepted = str(reply["result"]), True
            elif isinstance(reply, dict) and isinstance(reply.get("error"), dict):
                text = str(reply["error"].get("message", ""))
        with self._lock:
            self.seen.append(SeenTx(tx_hash, sender, nonce, accepted, text))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    request: Any = json.loads(body)
                except ValueError:
                    request = None
                method, params = "", []
                if isinstance(request, dict):
                    method = str(request.get("method", ""))
                    params = list(request.get("params") or [])
                port = int(self.client_address[1])
                rule, after = proxy._decide(method, params)
                if rule is not None and not rule.reply:
                    proxy._wait(rule, method, params, port)
                pid = proxy._pid_of(port) if after else None
                status, answer = proxy._forward(body)
                proxy._tap(request, status, answer)
                if rule is not None and rule.reply:
                    proxy._wait(rule, method, params, port, answer)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True
                if after is not None:
                    after(method, params, pid)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
