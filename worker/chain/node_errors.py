"""The one place where Ethereum node error strings are classified.

``classify`` maps the text (plus, where known, the JSON-RPC ``code`` and ``data``) that a node,
dev chain, L2 sequencer or RPC provider returns for ``eth_sendRawTransaction``,
``eth_estimateGas`` or ``eth_call`` to a ``NodeErrorClass``. ``OUTCOMES`` says what the worker
does about each class, ``to_node_error`` turns a node answer into the typed ``NodeError``
that the node client raises, and ``outcome_for`` reads the outcome back from such an error
(by its ``node_class``, never by re-parsing the message). Revert reasons are decoded by
``worker.chain.revert_reason``. The patterns come from the error strings of geth, Erigon,
Nethermind, Besu, Reth, anvil, Hardhat/EDR, Ganache, OpenEthereum, Arbitrum, OP-stack nodes
and RPC providers; the tables gathered by tests/unit/node_error_cases.py hold one real
message per row.

Matching is case-insensitive and unanchored (wrappers such as ``err: ``, ``INTERNAL_ERROR: ``
or whole nested JSON bodies add text around the part that matters), and the rules are tried
in a fixed priority order because several texts contain others (see ``_RULES``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from worker.chain.revert_reason import PANIC_MEANINGS, revert_reason
from worker.domain.errors import NodeError

__all__ = ["OUTCOMES", "PANIC_MEANINGS", "NodeErrorClass", "Outcome", "classify",
           "outcome_for", "revert_reason", "to_node_error"]


class NodeErrorClass(StrEnum):
    """What a node's answer means for the transaction, independent of the client's wording."""

    ALREADY_KNOWN = "ALREADY_KNOWN"
    NONCE_TOO_LOW = "NONCE_TOO_LOW"
    NONCE_TOO_HIGH = "NONCE_TOO_HIGH"
    UNDERPRICED_REPLACEMENT = "UNDERPRICED_REPLACEMENT"
    UNDERPRICED = "UNDERPRICED"
    FEE_BELOW_BASE_FEE = "FEE_BELOW_BASE_FEE"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    INTRINSIC_GAS = "INTRINSIC_GAS"
    GAS_LIMIT_EXCEEDED = "GAS_LIMIT_EXCEEDED"
    POOL_FULL = "POOL_FULL"
    INVALID_SIGNATURE_OR_CHAIN = "INVALID_SIGNATURE_OR_CHAIN"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    REVERTED = "REVERTED"
    RATE_LIMITED = "RATE_LIMITED"
    TIMEOUT = "TIMEOUT"
    ACCEPTED_PENDING = "ACCEPTED_PENDING"
    # Splits of "other" whose outcome differs from a plain rejection.
    INVALID_FEE_FIELDS = "INVALID_FEE_FIELDS"
    OVERSIZED = "OVERSIZED"
    FEE_CAP_EXCEEDED = "FEE_CAP_EXCEEDED"
    SENDER_NOT_EOA = "SENDER_NOT_EOA"
    EXECUTION_FAILED = "EXECUTION_FAILED"
    NODE_UNAVAILABLE = "NODE_UNAVAILABLE"
    OTHER = "OTHER"


Action = Literal["success", "check_nonce", "retry", "bump_fee", "fail", "accepted"]


@dataclass(frozen=True)
class Outcome:
    """What the worker does about one class.

    ``action``: ``success`` (the node already has this exact transaction: broadcast is done),
    ``accepted`` (the node took the transaction but did not finish waiting for it),
    ``check_nonce`` (the nonce is used: look for a receipt of our own hashes before deciding),
    ``retry`` (temporary: send the same bytes again later), ``bump_fee`` (re-sign the same
    nonce with higher fees) or ``fail`` (permanent). ``error_code`` is a key of
    ``worker.domain.errors.ERROR_CODES``; ``retryable`` is what the ``NodeError`` carries.
    """

    action: Action
    error_code: str
    retryable: bool


_C = NodeErrorClass
_FAIL_REJECTED = Outcome("fail", "node_rejected", False)
_RETRY_UNAVAILABLE = Outcome("retry", "node_unavailable", True)
_BUMP = Outcome("bump_fee", "fee_too_low", True)

OUTCOMES: dict[NodeErrorClass, Outcome] = {
    # "success"/"accepted" are not failures; the code is only what to show if a caller must
    # surface them anyway, and retryable=True because sending the same bytes again is harmless
    # while marking a transaction that may still be mined as failed is not.
    _C.ALREADY_KNOWN: Outcome("success", "node_rejected", True),
    _C.ACCEPTED_PENDING: Outcome("accepted", "node_unavailable", True),
    _C.NONCE_TOO_LOW: Outcome("check_nonce", "nonce_conflict", False),
    # A gap (or an invalid lower-nonce tx) closes once the earlier nonces land.
    _C.NONCE_TOO_HIGH: Outcome("retry", "node_rejected", True),
    _C.UNDERPRICED_REPLACEMENT: _BUMP,
    _C.UNDERPRICED: _BUMP,
    _C.FEE_BELOW_BASE_FEE: _BUMP,
    _C.POOL_FULL: _RETRY_UNAVAILABLE,
    _C.RATE_LIMITED: _RETRY_UNAVAILABLE,
    _C.TIMEOUT: _RETRY_UNAVAILABLE,
    _C.NODE_UNAVAILABLE: _RETRY_UNAVAILABLE,
    _C.INSUFFICIENT_FUNDS: Outcome("fail", "insufficient_funds", False),
    _C.INTRINSIC_GAS: Outcome("fail", "gas_too_low", False),
    _C.GAS_LIMIT_EXCEEDED: Outcome("fail", "gas_limit_exceeded", False),
    _C.REVERTED: Outcome("fail", "execution_reverted", False),
    # The call can never succeed as given (always out of gas, halted, or the estimate found no
    # gas limit that works); reported with the revert code because no reason string exists.
    _C.EXECUTION_FAILED: Outcome("fail", "execution_reverted", False),
    _C.INVALID_FEE_FIELDS: Outcome("fail", "fee_conflict", False),
    _C.INVALID_SIGNATURE_OR_CHAIN: _FAIL_REJECTED,
    _C.UNSUPPORTED_TYPE: _FAIL_REJECTED,
    _C.OVERSIZED: _FAIL_REJECTED,
    _C.FEE_CAP_EXCEEDED: _FAIL_REJECTED,
    _C.SENDER_NOT_EOA: _FAIL_REJECTED,
    _C.OTHER: _FAIL_REJECTED,
}


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


# Bare one-word texts ("Invalid", "Filtered", "VM execution error.") are only trusted as the
# whole message or as a quoted message inside a wrapper or nested JSON body, because the
# words themselves occur in many unrelated texts.
_START = r"(?:^|[\"'])"
_END = r"(?:$|[\"'])"

# Reverts are decided before anything else: the reason is free text chosen by the contract
# ("execution reverted: insufficient funds", "...: nonce too low").
_REVERT = _rx(
    r"execution reverted",
    r"vm exception while processing transaction: (?:revert|invalid opcode)",
    r"\btransaction reverted\b",
    r"\breverted 0x",
    rf"{_START}vm execution error",
)

_RATE_CODES = frozenset({-32005, -32007, -32012, -32016, -32017})
# Loose hint used only together with a rate-limit code; "gas" excludes Besu's -32005
# "Transaction gas limit exceeds block gas limit".
_RATE_HINT = re.compile(r"limit|exceeded|capacity|credits|too many")

# Ordered: the first matching rule wins. Each comment says why a rule sits where it does.
_RULES: tuple[tuple[NodeErrorClass, re.Pattern[str]], ...] = (
    # eth_sendRawTransactionSync timeouts: the tx WAS accepted, so before TIMEOUT.
    (_C.ACCEPTED_PENDING, _rx(
        r"added to the transaction pool but wasn't processed",
        r"added to the mempool but wasn't confirmed",
        r"transaction confirmation timeout",
    )),
    # Provider and proxy limits, also when a whole 429 body is nested in the message.
    (_C.RATE_LIMITED, _rx(
        r"\brate.?limit", r"\brate exceeded", r"too many requests", r"request limit",
        r"credits limited", r"compute units per second", r"capacity limit exceeded",
        r"over capacity", r"rps limit", r"maximum number of concurrent requests",
    )),
    (_C.TIMEOUT, _rx(
        r"timed out", r"timeout expired", r"gateway timeout", r"deadline exceeded",
        r"request timeout", r"execution aborted \(timeout", r"read timeout",
    )),
    # "\b" keeps anvil's "Unknown transaction type not supported" out.
    (_C.ALREADY_KNOWN, _rx(
        r"already known", r"alreadyknown", r"\bknown transaction", r"already imported",
        r"ownnoncealreadyused",
    )),
    # EIP-7702 authorization texts contain "nonce too low" and "invalid signature" but are
    # about an authorization tuple, not our transaction: never NONCE_TOO_LOW or a bad tx sig.
    (_C.OTHER, _rx(r"authority nonce", r"eip-7702 authorization")),
    # Before UNDERPRICED: "transaction underpriced" is inside this text.
    (_C.UNDERPRICED_REPLACEMENT, _rx(
        r"replacement transaction underpriced", r"replacementnotallowed",
        r"could not replace existing tx", r"another transaction with same nonce",
    )),
    # Before UNDERPRICED: Nethermind's "FeeTooLowToCompete" and "FeeTooLow, FeePerGas needs to
    # be higher than..." both mean the pool is full and contain "FeeTooLow".
    (_C.POOL_FULL, _rx(
        r"txpool is full", r"sub-pool is full", r"limit in txpool is full", r"pool full",
        r"queue full", r"future transaction tries to replace pending",
        r"account limit exceeded", r"in-flight transaction limit reached",
        r"(?:authority|address) already reserved", r"\bspammer\b",
        r"too many transactions in the queue", r"feetoolowtocompete",
        r"feepergas needs to be higher", r"pendingtxsofconflictingtype",
        r"dropped due to l2 congestion",
    )),
    # Nethermind "FeeTooLow, MaxFeePerGas too low..." is the base-fee variant.
    (_C.FEE_BELOW_BASE_FEE, _rx(
        r"less than block base fee", r"less than block blob gas fee",
        r"below current (?:blob )?base fee", r"too low for the next block",
        r"miner premium is negative", r"maxfeepergas too low",
        r"less than (?:the )?current base ?fee",
    )),
    (_C.INVALID_FEE_FIELDS, _rx(
        r"priority fee per gas (?:higher than|exceeds) max fee per gas",
        r"higher than 2\^256-1", r"tip higher than fee cap",
        r"max_priority_fee_per_gas` greater than `max_fee_per_gas",
        r"maxpriorityfeepergas \(\d+\) is bigger than maxfeepergas",
        r"invalidmaxpriorityfeepergas", r"int256overflow", r"transaction cost overflow",
    )),
    (_C.FEE_CAP_EXCEEDED, _rx(r"exceeds the configured cap", r"transaction fee cap exceeded")),
    # Bare "transaction underpriced": geth uses it for below-minimum and pool-full, Ganache
    # for a replacement without enough bump and for resending the identical tx. Bumping the
    # fee is safe for all of these (at most one tx per nonce can be mined and the caller keeps
    # every hash), while treating it as "already known" could wait for a tx that never got in.
    (_C.UNDERPRICED, _rx(
        r"underpriced", r"gas price below minimum", r"below configured minimum gas price",
        r"priority fee below minimum", r"which is below the minimum of",
        r"gas price (?:is )?too low", r"fee too low", r"feetoolow", rf"{_START}filtered{_END}",
    )),
    (_C.INSUFFICIENT_FUNDS, _rx(
        r"insufficient ?funds", r"insufficient sender balance",
        r"insufficient maxfeepergas for sender balance", r"insufficient balance",
        r"upfront cost exceeds account balance", r"doesn't have enough funds",
        r"not enough funds", r"exceeds transaction sender account balance",
    )),
    # Before GAS_LIMIT_EXCEEDED: anvil's "intrinsic gas too high -- CallGasCostMoreThanGasLimit"
    # (and the EIP-7623 floor variant) means the gas limit is BELOW the intrinsic cost.
    (_C.INTRINSIC_GAS, _rx(
        r"intrinsic gas too low", r"intrinsicgas", r"below intrinsic gas",
        r"intrinsic gas exceeds gas limit", r"callgascostmorethangaslimit",
        r"gasfloormorethangaslimit", r"insufficient gas for floor data gas cost",
        r"requires at least \d+ gas but got", r"requires gas floor of",
        r"not enough gas to cover minimal cost",
    )),
    # Every other "intrinsic gas too high" (anvil tx.gas_limit > block, Reth) is this class.
    (_C.GAS_LIMIT_EXCEEDED, _rx(
        r"exceeds block gas limit", r"gas limit (?:is )?too high", r"gaslimitexceeded",
        r"gas limit reached", r"gaslimitcapexceeded", r"block gas limit exceeded",
        r"gas limit cap exceeded", r"exceeds max transaction gas limit",
        r"intrinsic gas too high", r"greater than the block gas limit",
        r"callergaslimitmorethe[na]block", r"exceeds transaction gas cap",
        r"exceeds current gas limit", r"supplied gas is beyond limit",
    )),
    # Nethermind's "wrong transaction nonce" (eth_call, <=2025) covers too low and too high;
    # check_nonce inspects the chain instead of guessing, so it is the safer reading.
    (_C.NONCE_TOO_LOW, _rx(
        r"nonce too low", r"nonce is too low", r"oldnonce", r"doesn't have the correct nonce",
        r"invalid transaction nonce", r"wrong transaction nonce", r"transaction is outdated",
    )),
    # Besu's "invalid transaction with a lower nonce exists" blocks this nonce until the
    # earlier one is replaced, i.e. it behaves like a gap.
    (_C.NONCE_TOO_HIGH, _rx(
        r"nonce too high", r"noncegap", r"nonce ?too ?far ?in ?future", r"nonce is too distant",
        r"gapped.nonce", r"invalid transaction with a lower nonce exists",
    )),
    # Before INVALID_SIGNATURE_OR_CHAIN: Besu's "Invalid transaction type".
    (_C.UNSUPPORTED_TYPE, _rx(
        r"type not supported", r"notsupportedtxtype", r"unsupported transaction type",
        r"invalidtxtype", r"invalid transaction type", r"transaction type not valid",
        r"transaction type \w+ is invalid",
        r"fork supporting this transaction type", r"eip \d+ is not activated",
        r"not supported by the current hardfork", r"deposit tx received but is not supported",
        r"shard blob\) transaction was received",
    )),
    (_C.INVALID_SIGNATURE_OR_CHAIN, _rx(
        r"invalid sender", r"invalid chain ?id", r"replay-protected",
        r"signed for another chain", r"failedtoresolvesender", r"failed to recover sender",
        r"invalidtxchainid", r"invalidtxsignature", r"invalid (?:transaction )?signature",
        r"wrong chain ?id", r"chainid (?:not supported|is required)",
        r"should not have a chain id", r"meant for chain id",
        r"failed to decode signed transaction",
        r"transaction invalid",
        # Nethermind 1.x bare "Invalid" (wrong chain id OR gas below intrinsic); the generic
        # node_rejected code does not mislead either way.
        rf"{_START}invalid(?:,|{_END})",
    )),
    (_C.SENDER_NOT_EOA, _rx(r"sender (?:is )?not an eoa", r"senderiscontract")),
    (_C.OVERSIZED, _rx(
        r"oversized data", r"rlptoolong", r"maxtxsizeexceeded", r"transaction too large",
        r"max initcode size exceeded", r"transaction is too big",
    )),
    (_C.NODE_UNAVAILABLE, _rx(
        r"node is syncing", r"initial sync is still in progress",
        r"transaction pool not enabled", r"sequencer temporarily not available",
        r"not accepting transactions due to expected surplus", r"connection refused",
        r"connection reset", r"connection aborted", r"failed to establish a new connection",
        r"name or service not known", r"temporary failure in name resolution",
        r"bad gateway", r"service unavailable", r"remote end closed connection",
    )),
    # Late: "cannot estimate gas; ..." also wraps more specific reasons matched above.
    (_C.EXECUTION_FAILED, _rx(
        r"gas required exceeds", r"out of gas", r"cannot estimate gas",
        r"gas estimation failed", r"transaction execution fails",
        r"could not be completed due to an exception",
    )),
    # Mantle's forwarding wrapper says "please try again"; only reached when the quoted inner
    # message matched nothing above.
    (_C.NODE_UNAVAILABLE, _rx(r"failed to forward tx to sequencer")),
)

_STATUS_FALLBACK = {429: _C.RATE_LIMITED, 408: _C.TIMEOUT, 504: _C.TIMEOUT,
                    502: _C.NODE_UNAVAILABLE, 503: _C.NODE_UNAVAILABLE}


def _revert_in_data(data: object) -> bool:
    """True when ``data`` carries a revert: OpenEthereum/old Nethermind ``"Reverted 0x…"``, or
    a wallet wrapper's ``originalError`` with code 3."""
    if isinstance(data, str):
        return data.strip().lower().startswith("reverted")
    if isinstance(data, dict):
        inner = data.get("originalError")
        return isinstance(inner, dict) and inner.get("code") == 3
    return False


def classify(message: str, code: int | None = None, data: object = None) -> NodeErrorClass:
    """Classify one node answer. Pure; never raises.

    ``message`` is the JSON-RPC ``error.message`` (or a transport error's text), ``code`` the
    JSON-RPC ``error.code`` or an HTTP status, ``data`` the ``error.data``. Unknown texts are
    ``OTHER``. Code 3 is always ``REVERTED``; code 429 is ``RATE_LIMITED`` unless the text is a
    revert.
    """
    text = " ".join((message or "").split()).lower()
    if code == 3 or _REVERT.search(text) or _revert_in_data(data):
        return _C.REVERTED
    if code == 429 or (code in _RATE_CODES and _RATE_HINT.search(text) and "gas" not in text):
        return _C.RATE_LIMITED
    for cls, pattern in _RULES:
        if pattern.search(text):
            return cls
    if code is not None and code in _STATUS_FALLBACK:
        return _STATUS_FALLBACK[code]
    return _C.OTHER


_MAX_QUOTE = 300
# Provider URLs often carry an API key in the path or query; keep only scheme and host.
_URL = re.compile(r"(https?://[^/\s'\"?]+)[^\s'\"]*")
_URL_PATH = re.compile(r"(with url: )\S+")


def _quote(message: str) -> str:
    text = " ".join((message or "").split())
    text = _URL_PATH.sub(r"\1…", _URL.sub(r"\1/…", text))
    return text if len(text) <= _MAX_QUOTE else text[: _MAX_QUOTE - 1] + "…"


def to_node_error(message: str, code: int | None = None, data: object = None) -> NodeError:
    """Classify a node answer and build the ``NodeError`` the pipeline raises.

    The error's ``code`` and ``retryable`` come from ``OUTCOMES``, ``node_class`` is the class
    value, and the message quotes the node's text (whitespace collapsed, URL paths removed,
    cut to about 300 characters); a revert also names its decoded reason.
    """
    cls = classify(message, code, data)
    outcome = OUTCOMES[cls]
    quoted = _quote(message)
    text = f'Ethereum node answered {cls.value}: "{quoted}"'
    if cls is _C.REVERTED:
        reason = revert_reason(message, data)
        if reason is not None:
            text = f"execution reverted: {_quote(reason)} (node said: \"{quoted}\")"
    if code is not None:
        text += f" [code {code}]"
    return NodeError(outcome.error_code, text, node_class=cls.value, retryable=outcome.retryable)


def outcome_for(error: NodeError) -> Outcome:
    """The outcome of a ``NodeError`` built by ``to_node_error``.

    Uses the stored ``node_class``: re-classifying ``error.message`` would lose what only the
    JSON-RPC code or data said (code 3, HTTP 429/504, revert data). An error whose
    ``node_class`` is not a ``NodeErrorClass`` (e.g. a transport failure raised elsewhere) is
    classified from its message; if that says nothing, its own ``retryable`` decides between
    ``retry`` and ``fail``.
    """
    try:
        return OUTCOMES[NodeErrorClass(error.node_class)]
    except ValueError:
        cls = classify(error.message)
    if cls is not _C.OTHER:
        return OUTCOMES[cls]
    if error.retryable:
        return Outcome("retry", error.code, True)
    return Outcome("fail", error.code, False)
