"""The JSON-RPC methods kvsigner answers itself, one function each.

Each takes the ``RpcContext`` and the request's positional params and returns the JSON
result, or raises ``RpcError``/``KvsignerError`` (``dispatch`` maps both). Signatures are
made in the vault (``worker.signing``); no private key exists in this process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from worker import context
from worker.rpc import params as p
from worker.rpc.send import send_transaction
from worker.rpc.sign_tx import sign_transaction_request
from worker.services import Services
from worker.signing.messages import sign_personal_message, sign_typed_data

Handler = Callable[[list[Any]], Any]


@dataclass(frozen=True)
class RpcContext:
    """What the local methods need: the process's services, how to enqueue an accepted
    transaction, and how long ``eth_sendTransaction`` waits for its broadcast."""

    services: Services
    enqueue: Callable[[str], None]
    send_timeout: float = 25.0
    poll_seconds: float = 0.075


def _account(ctx: RpcContext, value: Any, name: str) -> str:
    """A vault account's address; raises ``unknown_account`` (-32000) for any other."""
    return str(ctx.services.signer.account(p.address(value, name)).address)


def eth_accounts(ctx: RpcContext, params: list[Any]) -> list[str]:
    """The vault's enabled accounts, checksummed."""
    p.positional("eth_accounts", params, 0)
    return [str(a.address) for a in ctx.services.accounts()]


def personal_list_accounts(ctx: RpcContext, params: list[Any]) -> list[str]:
    p.positional("personal_listAccounts", params, 0)
    return [str(a.address) for a in ctx.services.accounts()]


def eth_send_transaction(ctx: RpcContext, params: list[Any]) -> str:
    """``[tx]`` -> the transaction hash, once the node has accepted it (see ``send``)."""
    (tx,) = p.positional("eth_sendTransaction", params, 1)
    return send_transaction(ctx.services, p.transaction(tx, "eth_sendTransaction"),
                            ctx.enqueue, ctx.send_timeout, ctx.poll_seconds)


def eth_sign_transaction(ctx: RpcContext, params: list[Any]) -> dict[str, Any]:
    """``[tx]`` -> ``{"raw", "tx"}``; signed, not broadcast, nonce not reserved."""
    (tx,) = p.positional("eth_signTransaction", params, 1)
    with context.bound(purpose="sign_transaction"):
        return sign_transaction_request(ctx.services, p.transaction(tx, "eth_signTransaction"))


def eth_sign(ctx: RpcContext, params: list[Any]) -> str:
    with context.bound(purpose="eth_sign"):
        return _eth_sign(ctx, params)


def _eth_sign(ctx: RpcContext, params: list[Any]) -> str:
    """``[address, data]`` -> EIP-191 (``\\x19Ethereum Signed Message``) signature of the
    bytes of ``data`` (0x-hex), 65 bytes with v = 27/28."""
    addr, data = p.positional("eth_sign", params, 2)
    account = _account(ctx, addr, "address")
    message = p.hex_bytes(data, "data")
    return "0x" + sign_personal_message(ctx.services.signer, account, message).hex()


def personal_sign(ctx: RpcContext, params: list[Any]) -> str:
    with context.bound(purpose="personal_sign"):
        return _personal_sign(ctx, params)


def _personal_sign(ctx: RpcContext, params: list[Any]) -> str:
    """``[data, address, password?]`` (data first, unlike ``eth_sign``); ``data`` is 0x-hex
    bytes or plain text; a password is accepted for compatibility and ignored."""
    data, addr, _password = p.positional("personal_sign", params, 2, 1)
    message = p.message_payload(data, "data")
    account = _account(ctx, addr, "address")
    return "0x" + sign_personal_message(ctx.services.signer, account, message).hex()


def eth_sign_typed_data_v4(ctx: RpcContext, params: list[Any]) -> str:
    with context.bound(purpose="typed_data"):
        return _sign_typed_data(ctx, params)


def _sign_typed_data(ctx: RpcContext, params: list[Any]) -> str:
    """``[address, typedData]`` with ``typedData`` as an object or JSON text -> the EIP-712
    signature (65 bytes, v = 27/28)."""
    addr, document = p.positional("eth_signTypedData_v4", params, 2)
    account = _account(ctx, addr, "address")
    typed = p.typed_data(document, "typedData")
    return "0x" + sign_typed_data(ctx.services.signer, account, typed).hex()


#: method name -> implementation. ``eth_signTypedData`` is what web3.py's
#: ``w3.eth.sign_typed_data`` calls; geth and Clef give it the v4 meaning.
LOCAL_METHODS: dict[str, Callable[[RpcContext, list[Any]], Any]] = {
    "eth_accounts": eth_accounts,
    "personal_listAccounts": personal_list_accounts,
    "eth_sendTransaction": eth_send_transaction,
    "eth_signTransaction": eth_sign_transaction,
    "eth_sign": eth_sign,
    "personal_sign": personal_sign,
    "eth_signTypedData_v4": eth_sign_typed_data_v4,
    "eth_signTypedData": eth_sign_typed_data_v4,
}


def local_methods(ctx: RpcContext) -> dict[str, Handler]:
    """``LOCAL_METHODS`` bound to ``ctx``."""
    return {name: partial(fn, ctx) for name, fn in LOCAL_METHODS.items()}
