"""Node error classification: the table of real messages, outcomes, revert reasons and the
NodeError built from a node answer (the matching pitfalls are in test_node_error_pitfalls)."""

from __future__ import annotations

import pytest

from tests.unit.node_error_cases import CASES
from tests.unit.node_error_shapes import (
    CUSTOM_ERROR_DATA,
    ERROR_STRING_DATA,
    EXPECTED_OUTCOMES,
    PANIC_11_DATA,
    PANIC_12_DATA,
    PANIC_99_DATA,
    word,
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
    ("execution reverted", "0x08c379a0" + word("20") + word("2") + "fffe".ljust(64, "0")),
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
