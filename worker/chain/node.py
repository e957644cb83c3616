"""The Ethereum node, reached through a narrow interface.

``NodeClient`` speaks JSON-RPC over one pooled ``urllib3`` connection manager and returns
plain Python values: node calls are the commonest thing a worker does, and a bare pool costs
a fraction of the CPU of a full HTTP client stack per call. The environment's proxy and CA
bundle settings (``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``, ...) are read once,
when the client is made; TLS is always verified. Credentials in the URL
(``https://user:pass@host``) are sent as basic auth and never appear in an error.

A JSON-RPC error becomes a ``NodeError`` classified by ``worker.chain.node_errors`` (the one
place node messages are interpreted); a transport failure, an HTTP error status or a body
that is not JSON becomes ``NodeError('node_unavailable', retryable=True)``. Nothing here
retries: retry decisions belong to the pipeline.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import urllib3

from worker.chain.node_errors import to_node_error
from worker.domain.errors import NodeError
from worker.http_env import http_environment

#: Connections kept per node: one per worker thread is plenty.
POOL_SIZE = 16


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _unavailable(what: str, detail: str) -> NodeError:
    return NodeError("node_unavailable", f"node request {what} failed: {detail}",
                     node_class="TRANSPORT", retryable=True)


def _pool(url: str, timeout: float) -> tuple[urllib3.PoolManager, str, dict[str, str]]:
    """A connection manager for ``url`` with the environment's proxy and CA bundle, the URL
    without credentials, and the request headers (basic auth from the URL's credentials)."""
    parts = urlsplit(url)
    headers = {"Content-Type": "application/json"}
    if "@" in parts.netloc:
        userinfo, host = parts.netloc.rsplit("@", 1)
        headers.update(urllib3.make_headers(basic_auth=unquote(userinfo)))
        url = urlunsplit(parts._replace(netloc=host))
    env = http_environment(url)
    options: dict[str, Any] = {
        "num_pools": 2, "maxsize": POOL_SIZE, "block": False, "retries": False,
        "timeout": urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
        "cert_reqs": "CERT_REQUIRED", "ca_certs": env.ca_file,
    }
    proxy = env.proxies.get(parts.scheme)
    manager = (urllib3.ProxyManager(proxy, **options) if proxy
               else urllib3.PoolManager(**options))
    return manager, url, headers


def _result(response: dict[str, Any]) -> Any:
    """A JSON-RPC response's ``result``; its ``error`` as a classified ``NodeError``."""
    error = response.get("error")
    if error:
        if isinstance(error, dict):
            raise to_node_error(str(error.get("message", "")), error.get("code"),
                                error.get("data"))
        raise to_node_error(str(error))
    return response.get("result")


#: Calls per JSON-RPC batch request: providers cap batches (some at 100), and one huge
#: request would hold every answer hostage to the slowest.
MAX_BATCH = 100


class NodeClient:
    """Thread-safe JSON-RPC client for one node URL."""

    def __init__(self, url: str, timeout: float = 10.0, market_ttl: float = 1.0) -> None:
        self.url = url
        self.market_ttl = market_ttl
        self._cache: dict[tuple[str, tuple[Any, ...]], tuple[float, Any]] = {}
        self._cache_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._http, self._endpoint, self._headers = _pool(url, timeout)

    def _post(self, body: bytes, what: str) -> Any:
        """POST ``body`` and return the decoded JSON answer. Raises ``NodeError``."""
        try:
            resp = self._http.request("POST", self._endpoint, body=body, headers=self._headers)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # The exception text can hold the node URL (and a key in its path): name only.
            raise _unavailable(what, type(exc).__name__) from None
        if resp.status >= 400:
            raise _unavailable(what, f"HTTP {resp.status}")
        try:
            return json.loads(resp.data)
        except ValueError:
            raise _unavailable(what, "the answer is not JSON") from None

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        """Send one request and return its ``result``. Raises ``NodeError``."""
        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method,
                           "params": params or []}).encode()
        response = self._post(body, method)
        if not isinstance(response, dict):
            raise _unavailable(method, "the answer is not a JSON-RPC response")
        return _result(response)

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """The results of ``calls`` (method, params), in order, asked in JSON-RPC batches of
        at most ``MAX_BATCH`` calls. A node that does not answer batches with a list is asked
        one call at a time. Raises ``NodeError`` for the first call that failed."""
        results: list[Any] = []
        for start in range(0, len(calls), MAX_BATCH):
            results.extend(self._batch(calls[start:start + MAX_BATCH]))
        return results

    def _batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        payload = [{"jsonrpc": "2.0", "id": i, "method": method, "params": params}
                   for i, (method, params) in enumerate(calls)]
        answer = self._post(json.dumps(payload).encode(), "batch")
        if not isinstance(answer, list):  # batches refused or unsupported
            return [self.call(method, params) for method, params in calls]
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        results = []
        for i, (method, _) in enumerate(calls):
            item = by_id.get(i)
            if item is None:
                raise _unavailable(method, "no answer in the batch")
            results.append(_result(item))
        return results

    def raw(self, payload: dict[str, Any] | list[Any]) -> Any:
        """Forward a JSON-RPC request or batch unchanged; returns the node's JSON body."""
        return self._post(json.dumps(payload).encode(), "passthrough")

    # --- typed helpers -----------------------------------------------------------------
    def chain_id(self) -> int:
        return _int(self.call("eth_chainId"))

    def block_number(self) -> int:
        return _int(self.call("eth_blockNumber"))

    def get_block(self, number: int | str = "latest") -> dict[str, Any] | None:
        tag = hex(number) if isinstance(number, int) else number
        result = self.call("eth_getBlockByNumber", [tag, False])
        return dict(result) if result else None

    def pending_nonce(self, address: str) -> int:
        return _int(self.call("eth_getTransactionCount", [address, "pending"]))

    def latest_nonce(self, address: str) -> int:
        return _int(self.call("eth_getTransactionCount", [address, "latest"]))

    def balance(self, address: str) -> int:
        return _int(self.call("eth_getBalance", [address, "latest"]))

    def estimate_gas(self, tx: dict[str, Any]) -> int:
        return _int(self.call("eth_estimateGas", [tx]))

    def gas_price(self) -> int:
        return _int(self._cached("eth_gasPrice"))

    def max_priority_fee(self) -> int:
        return _int(self._cached("eth_maxPriorityFeePerGas"))

    def base_fee(self) -> int | None:
        """The latest block's base fee, or None on a chain without one."""
        block = self._cached("eth_getBlockByNumber", ("latest", False))
        fee = block.get("baseFeePerGas") if block else None
        return None if fee is None else _int(fee)

    def _cached(self, method: str, params: tuple[Any, ...] = ()) -> Any:
        """``call`` with answers reused for ``market_ttl`` seconds: market prices change per
        block, and every transaction of a busy sender would otherwise ask again."""
        key = (method, params)
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = self.call(method, list(params))
        with self._cache_lock:
            self._cache[key] = (now + self.market_ttl, value)
        return value

    def send_raw_transaction(self, raw: str) -> str:
        return str(self.call("eth_sendRawTransaction", [raw]))

    def get_receipt(self, tx_hash: str) -> dict[str, Any] | None:
        result = self.call("eth_getTransactionReceipt", [tx_hash])
        return dict(result) if result else None

    def get_transaction(self, tx_hash: str) -> dict[str, Any] | None:
        result = self.call("eth_getTransactionByHash", [tx_hash])
        return dict(result) if result else None

