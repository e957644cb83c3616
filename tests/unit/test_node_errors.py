"""Node error classification: the table of real messages, the matching pitfalls, outcomes,
revert reasons and the NodeError built from a node answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.node_error_cases import (
    ADDR,
    CASES,
    EXPECTED_OUTCOMES,
    HASH,
    WRAPPED,
    WRAPPERS,
)
from worker.chain.node_errors import (
    OUTCOMES,
    NodeErrorClass,
    Outcome,
    classify,
    outcome_for,
    revert_reason,
    to_node_error,
)
from worker.domain.errors import ERROR_CODES, NodeError


def _word(hex_digits: str) -> str:
    return hex_digits.rjust(64, "0")


# ABI data assembled by hand (selector, offset, length, padded bytes) so that decoding is
# checked against an encoding that does not come from the library under use.
ERROR_STRING_DATA = (
    "0x08c379a0" + _word("20") + _word("18") + b"Dai/insufficient-balance".hex().ljust(64, "0")
)
PANIC_11_DATA = "0x4e487b71" + _word("11")
PANIC_12_DATA = "0x4e487b71" + _word("12")
PANIC_99_DATA = "0x4e487b71" + _word("99")
CUSTOM_ERROR_DATA = "0x118cdaa7" + _word(ADDR[2:].lower())


# ------------------------------------------------------------------------- the table

def test_table_is_large_and_uses_only_known_classes() -> None:
    assert len(CASES) >= 300
    names = {c.value for c in NodeErrorClass}
    assert {expected for *_, expected in CASES} <= names
    assert len({(m, c) for _, m, c, _ in CASES}) > 250  # mostly distinct texts


@pytest.mark.parametrize(("client", "message", "code", "expected"), CASES,
                         ids=[f"{i}-{row[0]}" for i, row in enumerate(CASES)])
def test_every_reference_message(client: str, message: str, code: int | None,
                                 expected: str) -> None:
    assert classify(message, code) == expected, (client, message)


@pytest.mark.parametrize(("client", "message", "code", "expected"), CASES[::7])
def test_case_does_not_matter(client: str, message: str, code: int | None,
                              expected: str) -> None:
    assert classify(message.upper(), code) == expected
    assert classify(message.swapcase(), code) == expected


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


# ------------------------------------------------------------------------- outcomes

def test_every_class_has_an_outcome_with_a_declared_code() -> None:
    assert set(OUTCOMES) == set(NodeErrorClass)
    assert {c.value for c in NodeErrorClass} == set(EXPECTED_OUTCOMES)
    for cls, outcome in OUTCOMES.items():
        assert outcome.error_code in ERROR_CODES, cls
        assert outcome.action in {"success", "check_nonce", "retry", "bump_fee", "fail",
                                  "accepted"}


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED_OUTCOMES.items()))
def test_outcome_of_each_class(name: str, expected: tuple[str, str, bool]) -> None:
    outcome = OUTCOMES[NodeErrorClass(name)]
    assert (outcome.action, outcome.error_code, outcome.retryable) == expected


def test_outcome_is_frozen() -> None:
    with pytest.raises(AttributeError):
        OUTCOMES[NodeErrorClass.OTHER].action = "retry"  # type: ignore[misc]


# ------------------------------------------------------------------------- revert reasons

@pytest.mark.parametrize(("message", "data", "expected"), [
    ("execution reverted", ERROR_STRING_DATA, "Dai/insufficient-balance"),
    ("execution reverted", PANIC_11_DATA, "panic 0x11: arithmetic underflow or overflow"),
    ("execution reverted", PANIC_12_DATA, "panic 0x12: division or modulo by zero"),
    ("execution reverted", PANIC_99_DATA, "panic 0x99: unknown panic code"),
    ("execution reverted: Dai/insufficient-balance", None, "Dai/insufficient-balance"),
    ("execution reverted: revert: Ownable: caller is not the owner", None,
     "Ownable: caller is not the owner"),
    ("Execution reverted: ERC20: transfer amount exceeds balance", None,
     "ERC20: transfer amount exceeds balance"),
    ("Execution reverted (ERC20: transfer from the zero address)", None,
     "ERC20: transfer from the zero address"),
    ("Error: VM Exception while processing transaction: reverted with reason string "
     "'Not enough tokens'", None, "Not enough tokens"),
    ("VM Exception while processing transaction: revert Ownable: caller is not the owner",
     None, "Ownable: caller is not the owner"),
    (f"execution reverted: {PANIC_11_DATA}", None, "panic 0x11: arithmetic underflow or overflow"),
    ('cannot estimate gas; transaction may fail (reason="execution reverted: Not owner", '
     'method="estimateGas")', None, "Not owner"),
    # Decoded data wins over a node's own rendering of it.
    ("execution reverted: arithmetic underflow or overflow", PANIC_11_DATA,
     "panic 0x11: arithmetic underflow or overflow"),
    # A custom error stays as the node rendered it; its data cannot be decoded without an ABI.
    (f"execution reverted: {CUSTOM_ERROR_DATA}", None, CUSTOM_ERROR_DATA),
    ("execution reverted: custom error 0xe450d38c: 00ff", None, "custom error 0xe450d38c: 00ff"),
])
def test_revert_reason(message: str, data: object, expected: str) -> None:
    assert revert_reason(message, data) == expected


@pytest.mark.parametrize(("message", "data"), [
    ("execution reverted", "0x"),
    ("execution reverted", None),
    ("execution reverted", CUSTOM_ERROR_DATA),
    ("execution reverted: revert", None),
    ("VM Exception while processing transaction: revert", None),
    ("execution reverted", ERROR_STRING_DATA[:80]),  # truncated Error(string)
    ("execution reverted", "0x08c379a0" + _word("20") + _word("2") + "fffe".ljust(64, "0")),
    ("nonce too low", None),
])
def test_revert_reason_none_when_there_is_no_reason(message: str, data: object) -> None:
    assert revert_reason(message, data) is None


def test_truncated_data_falls_back_to_the_message() -> None:
    assert revert_reason("execution reverted: Paused", ERROR_STRING_DATA[:80]) == "Paused"


# ------------------------------------------------------------------------- to_node_error

def test_to_node_error_carries_class_code_and_quote() -> None:
    err = to_node_error("nonce too low: next nonce 5, tx nonce 3", -32000)
    assert isinstance(err, NodeError)
    assert (err.code, err.node_class, err.retryable) == ("nonce_conflict", "NONCE_TOO_LOW", False)
    assert "nonce too low: next nonce 5, tx nonce 3" in err.message
    assert err.http_status == 409


def test_to_node_error_retryable_follows_the_outcome_not_the_code_default() -> None:
    err = to_node_error("txpool is full")
    assert (err.code, err.retryable, err.node_class) == ("node_unavailable", True, "POOL_FULL")
    known = to_node_error("already known")
    assert known.node_class == "ALREADY_KNOWN" and known.retryable is True


def test_to_node_error_names_the_revert_reason() -> None:
    err = to_node_error("execution reverted", 3, PANIC_11_DATA)
    assert err.code == "execution_reverted" and err.node_class == "REVERTED"
    assert "arithmetic underflow or overflow" in err.message
    assert err.retryable is False


def test_to_node_error_truncates_long_messages() -> None:
    err = to_node_error("insufficient funds for gas * price + value: " + "x" * 5000)
    assert err.code == "insufficient_funds"
    assert 300 <= len(err.message) < 400
    assert "x" * 400 not in err.message


def test_to_node_error_removes_url_paths_that_may_hold_keys() -> None:
    message = ("HTTPSConnectionPool(host='mainnet.infura.io', port=443): Max retries exceeded "
               "with url: /v3/0123456789abcdef0123456789abcdef (Caused by "
               "NewConnectionError('Failed to establish a new connection: [Errno 111] "
               "Connection refused')) at https://eth-mainnet.g.alchemy.com/v2/SeCrEtKeY?x=1")
    err = to_node_error(message)
    assert err.node_class == "NODE_UNAVAILABLE" and err.retryable is True
    assert "0123456789abcdef" not in err.message and "SeCrEtKeY" not in err.message
    assert "https://eth-mainnet.g.alchemy.com" in err.message


def test_bare_words_count_only_as_whole_or_quoted_messages() -> None:
    assert classify("Invalid", -32010) is NodeErrorClass.INVALID_SIGNATURE_OR_CHAIN
    assert classify('{"code":-32010,"message":"Invalid"}') is (
        NodeErrorClass.INVALID_SIGNATURE_OR_CHAIN)
    assert classify("Error message: 'Filtered'") is NodeErrorClass.UNDERPRICED
    assert classify("invalid message format") is NodeErrorClass.OTHER
    assert classify("request filtered by policy") is NodeErrorClass.OTHER


@pytest.mark.parametrize(("client", "message", "code", "expected"), CASES[::3])
def test_built_message_still_reads_as_its_class(client: str, message: str, code: int | None,
                                                expected: str) -> None:
    err = to_node_error(message, code)
    assert err.node_class == expected
    assert outcome_for(err) == OUTCOMES[NodeErrorClass(expected)]
    if classify(message) == expected:  # the text alone decides: the quote keeps it
        assert classify(err.message) == expected


def test_outcome_for_uses_the_stored_class_not_the_text() -> None:
    err = to_node_error("upstream request failed", 504)
    assert err.node_class == "TIMEOUT"
    assert outcome_for(err).action == "retry"
    reverted = to_node_error("out of gas", 3)
    assert reverted.node_class == "REVERTED"
    assert classify(reverted.message) is NodeErrorClass.EXECUTION_FAILED  # the text alone
    assert outcome_for(reverted) is OUTCOMES[NodeErrorClass.REVERTED]
    foreign = NodeError("node_unavailable", "nonce too low", node_class="TRANSPORT")
    assert outcome_for(foreign).action == "check_nonce"
    transport = NodeError("node_unavailable", "node request eth_sendRawTransaction failed: "
                          "ReadTimeout", node_class="TRANSPORT", retryable=True)
    assert outcome_for(transport) == Outcome("retry", "node_unavailable", True)
    odd = NodeError("node_rejected", "something else", node_class="TRANSPORT")
    assert outcome_for(odd) == Outcome("fail", "node_rejected", False)
