"""Table tests of ``worker.domain.requests``: every refusal with its stable code, and the
normalised values of what is accepted."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import to_checksum_address

from worker.domain.errors import ValidationError
from worker.domain.requests import (
    UINT256_MAX,
    parse_address,
    parse_transaction_request,
    parse_uint,
)

ACCOUNT = to_checksum_address("0x52908400098527886e0f7030069857d2e4169ee7")
OTHER = to_checksum_address("0xde709f2102306220921060314715629080e2fb77")
TO = to_checksum_address("0x8617e340b3d01fa5f11f306f4090fd50e238070d")
CHAIN = 31337
MISSING = object()  # marks a field to delete from the base body


def _bad_checksum(address: str) -> str:
    """``address`` with the case of its first letter flipped: mixed case, wrong checksum."""
    i = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1:]


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"from": ACCOUNT, "to": TO, "value": "1"}
    for key, value in changes.items():
        if value is MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def _parse(body: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("is_account", lambda a: a == ACCOUNT)
    kwargs.setdefault("chain_id", CHAIN)
    return parse_transaction_request(body, **kwargs)


FEES_1559 = {"maxFeePerGas": 100, "maxPriorityFeePerGas": 2}
STORAGE_KEY = "0x" + "00" * 31 + "01"

BAD_REQUESTS: list[tuple[str, Any, str]] = [
    ("body is a list", [_body()], "invalid_json"),
    ("body is a string", "tx", "invalid_json"),
    ("unknown field", _body(gasLimit=21000), "invalid_field"),
    ("nonce given", _body(nonce=0), "invalid_field"),
    ("from missing", _body(**{"from": MISSING}), "invalid_field"),
    ("from bad checksum", _body(**{"from": _bad_checksum(ACCOUNT)}), "invalid_address"),
    ("from not hex", _body(**{"from": "0x" + "zz" * 20}), "invalid_address"),
    ("from too short", _body(**{"from": ACCOUNT[:-2]}), "invalid_address"),
    ("from without 0x", _body(**{"from": ACCOUNT[2:]}), "invalid_address"),
    ("from is a number", _body(**{"from": 1}), "invalid_address"),
    ("from not an account", _body(**{"from": OTHER}), "unknown_account"),
    ("to bad checksum", _body(to=_bad_checksum(TO)), "invalid_address"),
    ("to is a number", _body(to=5), "invalid_address"),
    ("data not hex", _body(data="0xzz"), "invalid_field"),
    ("data odd length", _body(data="0xabc"), "invalid_field"),
    ("data without 0x", _body(data="abcd"), "invalid_field"),
    ("data not a string", _body(data=12), "invalid_field"),
    ("data and input differ", _body(data="0x01", input="0x02"), "invalid_field"),
    ("negative value", _body(value=-1), "invalid_field"),
    ("negative decimal string", _body(value="-1"), "invalid_field"),
    ("value 2**256", _body(value=2**256), "invalid_field"),
    ("value 2**256 as decimal", _body(value=str(2**256)), "invalid_field"),
    ("value 2**256 as hex", _body(value=hex(2**256)), "invalid_field"),
    ("value true", _body(value=True), "invalid_field"),
    ("value float", _body(value=1.5), "invalid_field"),
    ("value in exponent notation", _body(value="1e18"), "invalid_field"),
    ("value empty string", _body(value=""), "invalid_field"),
    ("value bare 0x", _body(value="0x"), "invalid_field"),
    ("gas below 21000", _body(gas=20999), "invalid_field"),
    ("gas above uint64", _body(gas=2**64), "invalid_field"),
    ("gasPrice with 1559 fees", _body(gasPrice=1, **FEES_1559), "fee_conflict"),
    ("only maxFeePerGas", _body(maxFeePerGas=100), "fee_conflict"),
    ("only maxPriorityFeePerGas", _body(maxPriorityFeePerGas=1), "fee_conflict"),
    ("priority above max", _body(maxFeePerGas=1, maxPriorityFeePerGas=2), "fee_conflict"),
    ("type 0 with 1559 fees", _body(type=0, **FEES_1559), "fee_conflict"),
    ("type 1 with 1559 fees", _body(type=1, **FEES_1559), "fee_conflict"),
    ("type 2 with gasPrice", _body(type=2, gasPrice=1), "fee_conflict"),
    ("type 0 with accessList", _body(type=0, accessList=[]), "fee_conflict"),
    ("type 3", _body(type=3), "invalid_field"),
    ("type true", _body(type=True), "invalid_field"),
    ("wrong chainId", _body(chainId=1), "wrong_chain"),
    ("wrong chainId as hex", _body(chainId="0x1"), "wrong_chain"),
    ("creation without data", _body(to=MISSING), "invalid_field"),
    ("creation with empty data", _body(to=None, data="0x"), "invalid_field"),
    ("accessList not a list", _body(accessList={}), "invalid_field"),
    ("accessList entry without storageKeys", _body(accessList=[{"address": TO}]),
     "invalid_field"),
    ("accessList short storage key",
     _body(accessList=[{"address": TO, "storageKeys": ["0x01"]}]), "invalid_field"),
    ("accessList bad address",
     _body(accessList=[{"address": _bad_checksum(TO), "storageKeys": []}]),
     "invalid_address"),
    ("accessList too long",
     _body(accessList=[{"address": TO, "storageKeys": []}] * 257), "invalid_field"),
    ("metadata not an object", _body(metadata=[1]), "invalid_field"),
    ("metadata too large", _body(metadata={"note": "x" * 5000}), "invalid_field"),
    ("webhookUrl ftp", _body(webhookUrl="ftp://example.com/hook"), "invalid_field"),
    ("webhookUrl not a string", _body(webhookUrl=5), "invalid_field"),
    ("webhookUrl with a space", _body(webhookUrl="https://example.com/a b"),
     "invalid_field"),
    ("webhookUrl too long", _body(webhookUrl="https://example.com/" + "a" * 2048),
     "invalid_field"),
    ("webhookUrl without host", _body(webhookUrl="https://"), "invalid_field"),
]


@pytest.mark.parametrize(("body", "code"), [(b, c) for _, b, c in BAD_REQUESTS],
                         ids=[name for name, _, _ in BAD_REQUESTS])
def test_bad_request_is_refused_with_its_code(body: Any, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        _parse(body)
    assert info.value.code == code
    assert info.value.http_status == 400


def test_extra_fields_refused_when_not_allowed() -> None:
    with pytest.raises(ValidationError) as info:
        _parse(_body(metadata={"a": 1}), allow_extra=False)
    assert info.value.code == "invalid_field"


def test_metadata_limit_is_the_given_one() -> None:
    body = _body(metadata={"note": "x" * 100})
    _parse(body, metadata_max_bytes=200)
    with pytest.raises(ValidationError):
        _parse(body, metadata_max_bytes=50)


@pytest.mark.parametrize(("raw", "expected"), [
    (0, 0), (1000, 1000), ("1000", 1000), ("0x3e8", 1000), ("0x3E8", 1000),
    ("0", 0), ("0x0", 0), (UINT256_MAX, UINT256_MAX), (str(UINT256_MAX), UINT256_MAX),
    ("0x" + "f" * 64, UINT256_MAX),
])
def test_parse_uint_accepts(raw: Any, expected: int) -> None:
    assert parse_uint(raw, "value") == expected


@pytest.mark.parametrize("raw", [
    -1, "-1", True, False, 1.0, None, "", "0x", "1e3", " 1", "1 ", "0x" + "f" * 65,
    UINT256_MAX + 1, "abc", [1], {"v": 1},
])
def test_parse_uint_refuses(raw: Any) -> None:
    with pytest.raises(ValidationError) as info:
        parse_uint(raw, "value")
    assert info.value.code == "invalid_field"
    assert "`value`" in info.value.message


def test_parse_uint_respects_maximum() -> None:
    assert parse_uint(255, "type", 255) == 255
    with pytest.raises(ValidationError):
        parse_uint(256, "type", 255)


@pytest.mark.parametrize(("raw", "expected"), [
    (ACCOUNT, ACCOUNT),
    (ACCOUNT.lower(), ACCOUNT),
    ("0x" + ACCOUNT[2:].upper(), ACCOUNT),
])
def test_parse_address_accepts_and_checksums(raw: str, expected: str) -> None:
    assert parse_address(raw, "to") == expected


@pytest.mark.parametrize("raw", [
    _bad_checksum(ACCOUNT), ACCOUNT[2:], ACCOUNT[:-1], ACCOUNT + "0", "0x" + "g" * 40,
    "", None, 123, b"0x" + b"1" * 40,
])
def test_parse_address_refuses(raw: Any) -> None:
    with pytest.raises(ValidationError) as info:
        parse_address(raw, "to")
    assert info.value.code == "invalid_address"
    assert "`to`" in info.value.message


def test_valid_request_is_normalised() -> None:
    req, metadata, hook = _parse({
        "from": ACCOUNT.lower(), "to": TO.lower(), "value": "0x10", "data": "0xABcd",
        "gas": "21000", "type": 2, "chainId": CHAIN, **FEES_1559,
        "accessList": [{"address": TO.lower(), "storageKeys": [STORAGE_KEY.upper()
                                                                .replace("0X", "0x")]}],
        "metadata": {"order": 7}, "webhookUrl": "https://example.com/hook",
    })
    assert req.sender == ACCOUNT
    assert req.to == TO
    assert req.value == 16
    assert req.data == "0xabcd"
    assert (req.gas, req.type, req.chain_id) == (21000, 2, CHAIN)
    assert (req.max_fee_per_gas, req.max_priority_fee_per_gas, req.gas_price) == (100, 2, None)
    assert req.access_list == [{"address": TO, "storageKeys": [STORAGE_KEY]}]
    assert metadata == {"order": 7}
    assert hook == "https://example.com/hook"


def test_defaults_leave_choices_to_kvsigner() -> None:
    req, metadata, hook = _parse({"from": ACCOUNT, "to": TO})
    assert (req.value, req.data, req.gas, req.type, req.gas_price) == (0, "0x", None, None, None)
    assert (req.max_fee_per_gas, req.max_priority_fee_per_gas, req.chain_id) == (None,) * 3
    assert (metadata, hook) == (None, None)


@pytest.mark.parametrize("body", [
    _body(gasPrice="0x3b9aca00"),
    _body(type=0, gasPrice=1),
    _body(type=1, gasPrice=1, accessList=[]),
    _body(type="0x2", **FEES_1559),
    _body(maxFeePerGas=5, maxPriorityFeePerGas=5),
    _body(value=UINT256_MAX),
    _body(to=None, data="0x6000"),
    _body(to=MISSING, input="0x6000"),
    _body(data="0x01", input="0x01"),
    _body(chainId=str(CHAIN)),
    _body(webhookUrl="http://hooks.internal:8080/tx?x=1"),
], ids=["legacy hex gasPrice", "type 0", "type 1 with accessList", "type as hex string",
        "priority equals max", "value 2**256-1", "creation with to null", "creation via input",
        "data equals input", "chainId as decimal string", "http webhook"])
def test_valid_variants_are_accepted(body: dict[str, Any]) -> None:
    req, _, _ = _parse(body)
    assert req.sender == ACCOUNT


def test_input_is_an_alias_of_data() -> None:
    req, _, _ = _parse(_body(to=MISSING, input="0x6000"))
    assert req.data == "0x6000"
    assert req.to is None


def test_any_chain_when_the_chain_is_unknown() -> None:
    req, _, _ = _parse(_body(chainId=1), chain_id=None)
    assert req.chain_id == 1


def test_is_account_gets_the_checksummed_address() -> None:
    seen: list[str] = []

    def is_account(address: str) -> bool:
        seen.append(address)
        return True

    _parse(_body(**{"from": ACCOUNT.lower()}), is_account=is_account)
    assert seen == [ACCOUNT]
