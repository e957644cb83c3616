"""What an authenticated API key may do, decided in plain functions.

The API binds the request's key to ``current_key`` (``api.auth``); code on the request path
calls ``check_sender_allowed`` before acting for an account. Outside a request (workers,
tests, the CLI) no key is bound and nothing is restricted: the API is the only door.

Rules:
* a read-only key may use GET/HEAD/OPTIONS and, on JSON-RPC, only ``READ_METHODS``;
* a key with a sender list may submit, cancel and sign only for those accounts. Listings
  (``GET /transactions``, ``eth_accounts``, ``GET /accounts``) stay unfiltered: they show
  what exists, they do not act.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from worker.auth.keys import ApiKey
from worker.domain.errors import KvsignerError

current_key: ContextVar[ApiKey | None] = ContextVar("kvsigner_current_key", default=None)

SAFE_HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: JSON-RPC methods that only read: chain state, our account list, subscriptions.
READ_METHODS = frozenset({
    "eth_accounts", "personal_listAccounts", "eth_chainId", "eth_blockNumber", "eth_call",
    "eth_estimateGas", "eth_gasPrice", "eth_maxPriorityFeePerGas", "eth_feeHistory",
    "eth_blobBaseFee", "eth_syncing", "eth_protocolVersion", "eth_createAccessList",
    "eth_newFilter", "eth_newBlockFilter", "eth_newPendingTransactionFilter",
    "eth_uninstallFilter", "eth_subscribe", "eth_unsubscribe", "net_version",
    "net_listening", "net_peerCount", "web3_clientVersion",
})
#: Every ``eth_get*`` method reads (getBalance, getLogs, getTransactionReceipt, ...).
READ_PREFIXES = ("eth_get",)

#: JSON-RPC methods that sign with a vault account -> where the account is in ``params``:
#: an index, or (index, field) for a transaction object.
SIGNING_METHODS: dict[str, int | tuple[int, str]] = {
    "eth_sendTransaction": (0, "from"),
    "eth_signTransaction": (0, "from"),
    "eth_sign": 0,
    "personal_sign": 1,
    "eth_signTypedData": 0,
    "eth_signTypedData_v3": 0,
    "eth_signTypedData_v4": 0,
}


def forbidden(message: str) -> KvsignerError:
    return KvsignerError("forbidden", message)


def check_sender_allowed(address: str) -> None:
    """Raise ``forbidden`` when the request's key may not act for ``address``. Without a
    bound key (auth off, or not on an API request) every address is allowed."""
    key = current_key.get()
    if key is not None and not key.allows_sender(address):
        raise forbidden(f"API key {key.name!r} may not act for {address}")


def is_read_method(method: str) -> bool:
    return method in READ_METHODS or method.startswith(READ_PREFIXES)


def _signing_account(method: str, params: Any) -> str | None:
    """The account a signing request names, or ``None`` when it cannot be found."""
    where = SIGNING_METHODS[method]
    index, field = (where, None) if isinstance(where, int) else where
    if not isinstance(params, list) or len(params) <= index:
        return None
    value = params[index]
    if field is not None:
        value = value.get(field) if isinstance(value, dict) else None
    return value if isinstance(value, str) else None


def rpc_refusal(key: ApiKey, payload: Any) -> str | None:
    """Why ``key`` may not send the parsed JSON-RPC body ``payload`` (a request or a batch),
    or ``None`` when it may. Malformed requests are left to the dispatcher, which refuses
    them itself. A signing request whose account cannot be found is refused for a key with
    a sender list (it cannot be shown to be allowed)."""
    requests = payload if isinstance(payload, list) else [payload]
    for req in requests:
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            continue
        method: str = req["method"]
        if key.read_only and not is_read_method(method):
            return f"API key {key.name!r} is read-only; {method} is not a read method"
        if key.senders and method in SIGNING_METHODS:
            account = _signing_account(method, req.get("params"))
            if account is None or not key.allows_sender(account):
                return (f"API key {key.name!r} may not use {method} for "
                        f"{account or 'an unnamed account'}")
    return None
