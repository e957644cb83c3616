"""Fakes and helpers shared by the JSON-RPC unit tests."""

from __future__ import annotations

import json
from typing import Any

from eth_keys import keys

from worker.domain.errors import ValidationError
from worker.rpc.dispatch import Dispatcher

KEY = keys.PrivateKey(bytes.fromhex("11" * 32))
ADDRESS = KEY.public_key.to_checksum_address()
STRANGER = "0x" + "22" * 20


class FakeProxy:
    def __init__(self) -> None:
        self.single: list[dict[str, Any]] = []
        self.batches: list[list[dict[str, Any]]] = []

    def forward(self, request: dict[str, Any]) -> dict[str, Any] | None:
        self.single.append(request)
        return None if "id" not in request else {"jsonrpc": "2.0", "id": request["id"],
                                                 "result": "node:" + request["method"]}

    def forward_batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        self.batches.append(requests)
        return [self.forward(r) for r in requests]


def boom(_params: list[Any]) -> Any:
    raise RuntimeError("secret detail")


def dispatcher(proxy: FakeProxy | None = None, max_batch: int = 5) -> Dispatcher:
    calls: list[list[Any]] = []

    def echo(params: list[Any]) -> Any:
        calls.append(params)
        return params

    def invalid(_params: list[Any]) -> Any:
        raise ValidationError("fee_conflict", "gasPrice with maxFeePerGas")

    def unknown(_params: list[Any]) -> Any:
        raise ValidationError("unknown_account", f"{STRANGER} is not an account of the vault")

    methods = {"local_echo": echo, "local_invalid": invalid, "local_unknown": unknown,
               "local_boom": boom}
    d = Dispatcher(methods, proxy or FakeProxy(), max_batch)
    d.calls = calls  # type: ignore[attr-defined]
    return d


def req(method: str, rid: Any = 1, params: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        body["params"] = params
    return body


def answer(d: Dispatcher, body: Any) -> Any:
    text = d.handle_text(body if isinstance(body, str | bytes) else json.dumps(body))
    return None if text is None else json.loads(text)
