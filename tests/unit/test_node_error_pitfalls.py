"""Node error classification: every matching pitfall seen while collecting real messages
(same condition spelled many ways, shifting layouts, wrappers, substring collisions, texts
whose meaning depends on the client, codes that cannot classify alone)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.node_error_shapes import ERROR_STRING_DATA, WRAPPED, WRAPPERS
from tests.unit.node_error_values import ADDR, HASH
from worker.chain.node_errors import (
    OUTCOMES,
    NodeErrorClass,
    classify,
    revert_reason,
)

# ------------------------------------------------------------------------- pitfalls

@pytest.mark.parametrize("message", [
    "already known", "AlreadyKnown", "ALREADY_EXISTS: already known", "Known transaction",
    f"Known transaction: {HASH}", f"known transaction: {HASH[2:]}", "Known transaction (5c504e)",
    "transaction already imported", "Transaction with the same hash was already imported.",
])
def test_pitfall_1_already_known_spellings(message: str) -> None:
    assert classify(message) is NodeErrorClass.ALREADY_KNOWN


@pytest.mark.parametrize(("message", "expected"), [
    ("nonce too low", "NONCE_TOO_LOW"), ("Nonce too high", "NONCE_TOO_HIGH"),
    ("Insufficient funds for gas * price + value", "INSUFFICIENT_FUNDS"),
    ("OldNonce", "NONCE_TOO_LOW"), ("NonceGap", "NONCE_TOO_HIGH"), ("FeeTooLow", "UNDERPRICED"),
    ("FeeTooLowToCompete", "POOL_FULL"), ("ReplacementNotAllowed", "UNDERPRICED_REPLACEMENT"),
    ("InsufficientFunds", "INSUFFICIENT_FUNDS"), ("GasLimitExceeded", "GAS_LIMIT_EXCEEDED"),
    ("FailedToResolveSender", "INVALID_SIGNATURE_OR_CHAIN"), ("IntrinsicGas", "INTRINSIC_GAS"),
    ("OwnNonceAlreadyUsed", "ALREADY_KNOWN"), ("NotSupportedTxType", "UNSUPPORTED_TYPE"),
])
def test_pitfall_1_case_and_camel_case_names(message: str, expected: str) -> None:
    assert classify(message) == expected


@pytest.mark.parametrize(("message", "expected"), [
    ("nonce too low: next nonce 5, tx nonce 3", "NONCE_TOO_LOW"),
    (f"nonce too low: address {ADDR}, tx: 3 state: 5", "NONCE_TOO_LOW"),
    (f"Nonce too low (transaction nonce 2 below sender account nonce 34 for sender {ADDR})",
     "NONCE_TOO_LOW"),
    (f"max fee per gas less than block base fee: address {ADDR}, maxFeePerGas: 1 baseFee: 2",
     "FEE_BELOW_BASE_FEE"),
    (f"max fee per gas less than block base fee: address {ADDR}, maxFeePerGas: 1, baseFee: 2",
     "FEE_BELOW_BASE_FEE"),
    (f"fee cap less than block base fee: address {ADDR}, feeCap: 1 baseFee: 2",
     "FEE_BELOW_BASE_FEE"),
    ("transaction underpriced: tip needed 2, tip permitted 1", "UNDERPRICED"),
    ("transaction underpriced: gas tip cap 1, minimum needed 2", "UNDERPRICED"),
    ("transaction gas price below minimum: gas tip cap 1, minimum needed 2", "UNDERPRICED"),
])
def test_pitfall_2_numbers_and_shifting_layouts(message: str, expected: str) -> None:
    assert classify(message) == expected


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize(("inner", "expected"), WRAPPED)
def test_pitfall_3_wrappers_do_not_break_matching(wrapper: str, inner: str,
                                                   expected: str) -> None:
    assert classify(wrapper.format(inner), -32000) == expected


def test_pitfall_3_nested_rate_limit_body_under_outer_32000() -> None:
    body = ('429 Too Many Requests: {"jsonrpc":"2.0","error":{"code":-32016,'
            '"message":"over rate limit"},"id":67}')
    assert classify(body, -32000) is NodeErrorClass.RATE_LIMITED


def test_pitfall_4_replacement_before_underpriced() -> None:
    assert classify("replacement transaction underpriced") is (
        NodeErrorClass.UNDERPRICED_REPLACEMENT)
    assert classify("transaction underpriced") is NodeErrorClass.UNDERPRICED


@pytest.mark.parametrize("message", [
    "authority nonce too low", "err: authority nonce too low: have 3, want 5 (supplied gas 9)",
    "EIP-7702 authorization nonce does not match current account nonce",
    "EIP-7702 authorization has invalid signature", "EIP-7702 authorization chain ID mismatch",
])
def test_pitfall_4_authorization_texts_are_not_our_nonce_or_signature(message: str) -> None:
    assert classify(message) is NodeErrorClass.OTHER
    assert OUTCOMES[classify(message)].action == "fail"


@pytest.mark.parametrize("reason", [
    "insufficient funds", "nonce too low", "replacement transaction underpriced",
    "already known", "rate limit exceeded", "txpool is full", "request timed out",
    "intrinsic gas too low", "exceeds block gas limit", "invalid sender",
])
@pytest.mark.parametrize("code", [3, -32000, None])
def test_pitfall_4_revert_reasons_never_leak_into_other_classes(reason: str,
                                                                code: int | None) -> None:
    assert classify(f"execution reverted: {reason}", code) is NodeErrorClass.REVERTED
    assert classify(f"Execution reverted ({reason})", code) is NodeErrorClass.REVERTED
    assert classify(f"VM Exception while processing transaction: revert {reason}",
                    code) is NodeErrorClass.REVERTED


def test_pitfall_4_code_3_alone_is_a_revert() -> None:
    assert classify("insufficient funds for gas * price + value", 3) is NodeErrorClass.REVERTED
    assert classify("", 3) is NodeErrorClass.REVERTED


@pytest.mark.parametrize(("message", "expected"), [
    ("intrinsic gas too high -- CallGasCostMoreThanGasLimit", "INTRINSIC_GAS"),
    ("intrinsic gas too high -- GasFloorMoreThanGasLimit", "INTRINSIC_GAS"),
    ("intrinsic gas too high -- tx.gas_limit > env.block.gas_limit", "GAS_LIMIT_EXCEEDED"),
    ("intrinsic gas too high -- tx.gas_limit > resolved tx gas limit cap", "GAS_LIMIT_EXCEEDED"),
    ("intrinsic gas too high -- CallerGasLimitMoreThanBlock", "GAS_LIMIT_EXCEEDED"),
    ("intrinsic gas too high", "GAS_LIMIT_EXCEEDED"),
])
def test_pitfall_4_intrinsic_gas_too_high_depends_on_the_suffix(message: str,
                                                                expected: str) -> None:
    assert classify(message, -32000) == expected


def test_pitfall_5_ganache_underpriced_takes_the_safe_bump() -> None:
    cls = classify("transaction underpriced", -32003)
    assert cls is NodeErrorClass.UNDERPRICED
    assert OUTCOMES[cls].action == "bump_fee"  # never "success": the tx may not be pooled


@pytest.mark.parametrize(("message", "expected"), [
    ("FeeTooLow, MaxFeePerGas too low. MaxFeePerGas: 7, BaseFee: 9, MaxPriorityFeePerGas:1, "
     "Block number: 5", "FEE_BELOW_BASE_FEE"),
    ("FeeTooLow, EffectivePriorityFeePerGas too low 0 < 1, BaseFee: 7", "UNDERPRICED"),
    ("FeeTooLow, FeePerGas needs to be higher than 9 to be added to the TxPool. Affordable "
     "FeePerGas of rejected tx: 7.", "POOL_FULL"),
    ("FeeTooLowToCompete", "POOL_FULL"),
])
def test_pitfall_5_nethermind_fee_too_low_suffixes(message: str, expected: str) -> None:
    assert classify(message, -32010) == expected


def test_pitfall_5_ambiguous_texts_get_the_documented_outcome() -> None:
    # Nethermind 2026 reports FeeTooLowToCompete with the geth replacement text.
    assert OUTCOMES[classify("replacement transaction underpriced")].action == "bump_fee"
    assert classify("Invalid", -32010) is NodeErrorClass.INVALID_SIGNATURE_OR_CHAIN
    assert OUTCOMES[classify("Invalid", -32010)].action == "fail"
    assert OUTCOMES[classify("wrong transaction nonce")].action == "check_nonce"
    assert classify("gas required exceeds allowance (30000000)") is (
        NodeErrorClass.EXECUTION_FAILED)


@pytest.mark.parametrize("code", [-32000, -32001, -32003, -32010])
def test_pitfall_6_one_condition_many_codes(code: int) -> None:
    assert classify("nonce too low", code) is NodeErrorClass.NONCE_TOO_LOW


@pytest.mark.parametrize(("message", "code", "expected"), [
    ("project ID request rate exceeded", -32005, "RATE_LIMITED"),
    ("Transaction gas limit exceeds block gas limit", -32005, "GAS_LIMIT_EXCEEDED"),
    ("Transaction gas limit cap exceeded", -32005, "GAS_LIMIT_EXCEEDED"),
    ("limit exceeded", -32005, "RATE_LIMITED"),
    ("request timed out", -32002, "TIMEOUT"),
    ("Invalid signature", -32002, "INVALID_SIGNATURE_OR_CHAIN"),
    ("Transaction pool not enabled. (Either txpool explicitly disabled, or node not yet in "
     "sync).", -32002, "NODE_UNAVAILABLE"),
    ("over rate limit", -32016, "RATE_LIMITED"),
    ("Exception during call execution", -32016, "OTHER"),
    ("Gas price below configured minimum gas price", -32009, "UNDERPRICED"),
    ("Unknown error", -32009, "OTHER"),
    ("backend is over capacity", -32012, "RATE_LIMITED"),
    ("credits limited to 50/sec", -32012, "RATE_LIMITED"),
    ("gateway timeout", -32015, "TIMEOUT"),
    ("VM execution error.", -32015, "REVERTED"),
    ("Sender account not authorized to send transactions", -32007, "OTHER"),
    ("something unexpected", 429, "RATE_LIMITED"),
])
def test_pitfall_6_codes_cannot_classify_alone(message: str, code: int, expected: str) -> None:
    assert classify(message, code) == expected


@pytest.mark.parametrize("code", [3, -32000, -32015, -32603])
def test_pitfall_6_reverts_arrive_with_many_codes(code: int) -> None:
    assert classify("execution reverted", code) is NodeErrorClass.REVERTED


@pytest.mark.parametrize(("message", "code", "data"), [
    ("execution reverted", 3, ERROR_STRING_DATA),
    ("VM execution error.", -32015, f"Reverted {ERROR_STRING_DATA}"),
    ("Error: VM Exception while processing transaction: reverted with reason string "
     "'Dai/insufficient-balance'", -32603,
     {"message": "reverted", "txHash": HASH, "data": ERROR_STRING_DATA}),
    ("Internal JSON-RPC error.", -32603,
     {"originalError": {"code": 3, "data": ERROR_STRING_DATA, "message": "execution reverted"}}),
    (f"execution reverted: {ERROR_STRING_DATA}", 3, None),
])
def test_pitfall_7_revert_data_moves_around(message: str, code: int, data: object) -> None:
    assert classify(message, code, data) is NodeErrorClass.REVERTED
    assert revert_reason(message, data) == "Dai/insufficient-balance"


@pytest.mark.parametrize(("message", "action"), [
    ("transaction underpriced", "bump_fee"), ("txpool is full", "retry"),
    ("future transaction tries to replace pending", "retry"),
    ("gapped-nonce tx from delegated accounts", "retry"),
    ("in-flight transaction limit reached for delegated accounts", "retry"),
    ("authority already reserved", "retry"),
])
def test_pitfall_8_geth_temporary_rejects_are_never_permanent(message: str,
                                                              action: str) -> None:
    assert OUTCOMES[classify(message, -32000)].action == action


def test_pitfall_8_sync_timeouts_mean_accepted() -> None:
    for message in ("The transaction was added to the transaction pool but wasn't processed "
                    "in 2s", f"Transaction {HASH} was added to the mempool but wasn't "
                    "confirmed within 2s.", "Transaction confirmation timeout"):
        assert classify(message, 4, HASH) is NodeErrorClass.ACCEPTED_PENDING
        assert OUTCOMES[NodeErrorClass.ACCEPTED_PENDING].action == "accepted"


@pytest.mark.parametrize("message", [
    "nonce too high: tx nonce 9, gapped nonce 7", "NonceGap", "nonce too far in future",
    "Transaction nonce is too distant from current sender nonce",
    "Nonce too high. Expected nonce to be 7 but got 9. Note that transactions can't be "
    "queued when automining.", f"nonce too high: address {ADDR}, tx: 9 state: 7",
])
def test_pitfall_9_nonce_gaps_are_retried(message: str) -> None:
    assert classify(message) is NodeErrorClass.NONCE_TOO_HIGH
    assert OUTCOMES[NodeErrorClass.NONCE_TOO_HIGH].action == "retry"


@pytest.mark.parametrize(("message", "expected"), [
    ("INTERNAL_ERROR: nonce too low", "NONCE_TOO_LOW"),
    ("INTERNAL_ERROR: insufficient funds", "INSUFFICIENT_FUNDS"),
    ("INTERNAL_ERROR: IntrinsicGas", "INTRINSIC_GAS"),
    ("INTERNAL_ERROR: gas limit is too high", "GAS_LIMIT_EXCEEDED"),
    ("INTERNAL_ERROR: could not replace existing tx", "UNDERPRICED_REPLACEMENT"),
    ("INVALID: RLPTooLong", "OVERSIZED"),
    ("FEE_TOO_LOW: underpriced", "UNDERPRICED"),
])
def test_pitfall_10_erigon_prefixes_do_not_decide(message: str, expected: str) -> None:
    assert classify(message, -32000) == expected


@pytest.mark.parametrize(("message", "expected"), [
    ("intrinsic gas too low", "INTRINSIC_GAS"),
    ("context deadline exceeded", "TIMEOUT"),
    ("max fee per gas less than block base fee: maxFeePerGas: 1 baseFee: 2",
     "FEE_BELOW_BASE_FEE"),
    ("transaction type not supported", "UNSUPPORTED_TYPE"),
    ("insufficient funds for gas * price + value: balance 0, tx cost 9, overshot 9",
     "INSUFFICIENT_FUNDS"),
])
def test_pitfall_11_l2_texts(message: str, expected: str) -> None:
    assert classify(message, -32000) == expected


@pytest.mark.parametrize(("message", "expected"), [
    ("transaction already imported", "ALREADY_KNOWN"),  # viem calls this nonce-too-low
    ("transaction is outdated", "NONCE_TOO_LOW"),
    ("exceeds transaction sender account balance", "INSUFFICIENT_FUNDS"),
    ("fee cap less than block base fee", "FEE_BELOW_BASE_FEE"),
    ("tip higher than fee cap", "INVALID_FEE_FIELDS"),
    ("transaction type not valid", "UNSUPPORTED_TYPE"),
    ("nonce too low", "NONCE_TOO_LOW"), ("nonce too far in future", "NONCE_TOO_HIGH"),
])
def test_pitfall_12_third_party_and_new_texts(message: str, expected: str) -> None:
    assert classify(message) == expected


def test_unknown_text_is_other_and_http_statuses_fall_back() -> None:
    assert classify("the moon is made of cheese") is NodeErrorClass.OTHER
    assert classify("", None) is NodeErrorClass.OTHER
    assert classify("upstream said no", 503) is NodeErrorClass.NODE_UNAVAILABLE
    assert classify("upstream said no", 408) is NodeErrorClass.TIMEOUT


@given(st.text(max_size=400), st.one_of(st.none(), st.integers(-40000, 600)))
def test_classify_is_total(message: str, code: int | None) -> None:
    assert isinstance(classify(message, code), NodeErrorClass)
