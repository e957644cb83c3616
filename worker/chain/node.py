"""The Ethereum node, reached through a narrow interface.

``NodeClient`` wraps web3's ``HTTPProvider`` (connection pooling, JSON-RPC encoding) and
returns plain Python values. A JSON-RPC error becomes a ``NodeError`` classified by
``worker.chain.node_errors`` (the one place node messages are interpreted); a transport
failure or an HTTP error becomes ``NodeError('node_unavailable', retryable=True)``. Web3's own
retries are off: retry decisions belong to the pipeline.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import requests
from eth_typing import URI
from web3 import HTTPProvider
from web3.types import RPCEndpoint

from worker.chain.node_errors import to_node_error
from worker.domain.errors import NodeError


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class NodeClient:
    """Thread-safe JSON-RPC client for one node URL."""

    def __init__(self, url: str, timeout: float = 10.0, market_ttl: float = 1.0) -> None:
        self.url = url
        self.market_ttl = market_ttl
        self._cache: dict[tuple[str, tuple[Any, ...]], tuple[float, Any]] = {}
        self._cache_lock = threading.Lock()
        self._provider = HTTPProvider(url, request_kwargs={"timeout": timeout},
                                      exception_retry_configuration=None)

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        """Send one request and return its ``result``. Raises ``NodeError``."""
        try:
            response = self._provider.make_request(RPCEndpoint(method), params or [])
        except (requests.RequestException, OSError, ValueError) as exc:
            raise NodeError("node_unavailable", f"node request {method} failed: "
                            f"{type(exc).__name__}", node_class="TRANSPORT",
                            retryable=True) from None
        error = response.get("error")
        if error:
            if isinstance(error, dict):
                raise to_node_error(str(error.get("message", "")), error.get("code"),
                                    error.get("data"))
            raise to_node_error(str(error))
        return response.get("result")

    def raw(self, payload: dict[str, Any] | list[Any]) -> Any:
        """Forward a JSON-RPC request or batch unchanged; returns the node's JSON body."""
        resp = self._provider._request_session_manager.make_post_request(
            URI(self.url), _dumps(payload), **self._provider.get_request_kwargs())
        return _loads(resp)

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


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise NodeError("node_unavailable", "node returned a body that is not JSON",
                        node_class="TRANSPORT", retryable=True) from None
