"""How node errors reach the classifier, and what each class must lead to: the wrappers that
nodes, proxies and client libraries put around a message, the outcome expected of every
class, and revert data assembled by hand. The messages themselves are in
``tests.unit.node_error_cases``."""

from __future__ import annotations

from tests.unit.node_error_values import ADDR

# Prefixes and bodies that nodes, proxies and client libraries put around a message; each
# must leave the class of the inner message unchanged.
WRAPPERS = [
    "err: {} (supplied gas 50000000)", "failed with 50000000 gas: {}", "FEE_TOO_LOW: {}",
    "INVALID: {}", "INTERNAL_ERROR: {}", "ALREADY_EXISTS: {}", "invalid transaction: {}",
    "transaction rejected: {}", "tracing failed: {}", "call failed: {}",
    "failed to forward tx to sequencer, please try again. Error message: '{}'",
    '400 Bad Request: {{"jsonrpc":"2.0","error":{{"code":-32000,"message":"{}"}},"id":7}}',
    "cannot estimate gas; transaction may fail or may require manual gas limit "
    '(reason="{}", method="estimateGas", code=UNPREDICTABLE_GAS_LIMIT)',
]
WRAPPED = [
    ("nonce too low: next nonce 5, tx nonce 3", "NONCE_TOO_LOW"),
    ("insufficient funds for gas * price + value", "INSUFFICIENT_FUNDS"),
    ("replacement transaction underpriced", "UNDERPRICED_REPLACEMENT"),
    ("intrinsic gas too low: gas 20000, minimum needed 21000", "INTRINSIC_GAS"),
    ("exceeds block gas limit", "GAS_LIMIT_EXCEEDED"),
    ("already known", "ALREADY_KNOWN"),
    ("execution reverted: Ownable: caller is not the owner", "REVERTED"),
]

# The expected (action, error_code, retryable) of every class.
EXPECTED_OUTCOMES: dict[str, tuple[str, str, bool]] = {
    "ALREADY_KNOWN": ("success", "node_rejected", True),
    "ACCEPTED_PENDING": ("accepted", "node_unavailable", True),
    "NONCE_TOO_LOW": ("check_nonce", "nonce_conflict", False),
    "NONCE_TOO_HIGH": ("retry", "node_rejected", True),
    "UNDERPRICED_REPLACEMENT": ("bump_fee", "fee_too_low", True),
    "UNDERPRICED": ("bump_fee", "fee_too_low", True),
    "FEE_BELOW_BASE_FEE": ("bump_fee", "fee_too_low", True),
    "POOL_FULL": ("retry", "node_unavailable", True),
    "RATE_LIMITED": ("retry", "node_unavailable", True),
    "TIMEOUT": ("retry", "node_unavailable", True),
    "NODE_UNAVAILABLE": ("retry", "node_unavailable", True),
    "INSUFFICIENT_FUNDS": ("fail", "insufficient_funds", False),
    "INTRINSIC_GAS": ("fail", "gas_too_low", False),
    "GAS_LIMIT_EXCEEDED": ("fail", "gas_limit_exceeded", False),
    "REVERTED": ("fail", "execution_reverted", False),
    "EXECUTION_FAILED": ("fail", "execution_reverted", False),
    "INVALID_FEE_FIELDS": ("fail", "fee_conflict", False),
    "INVALID_SIGNATURE_OR_CHAIN": ("fail", "node_rejected", False),
    "UNSUPPORTED_TYPE": ("fail", "node_rejected", False),
    "OVERSIZED": ("fail", "node_rejected", False),
    "FEE_CAP_EXCEEDED": ("fail", "node_rejected", False),
    "SENDER_NOT_EOA": ("fail", "node_rejected", False),
    "OTHER": ("fail", "node_rejected", False),
}


def word(hex_digits: str) -> str:
    return hex_digits.rjust(64, "0")


# ABI data assembled by hand (selector, offset, length, padded bytes) so that decoding is
# checked against an encoding that does not come from the library under use.
ERROR_STRING_DATA = (
    "0x08c379a0" + word("20") + word("18") + b"Dai/insufficient-balance".hex().ljust(64, "0")
)
PANIC_11_DATA = "0x4e487b71" + word("11")
PANIC_12_DATA = "0x4e487b71" + word("12")
PANIC_99_DATA = "0x4e487b71" + word("99")
CUSTOM_ERROR_DATA = "0x118cdaa7" + word(ADDR[2:].lower())
