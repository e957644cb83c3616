"""The OpenAPI document is valid OpenAPI 3.1, matches the app's routes both ways, and its
schemas accept what the code really returns."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from api.app import create_app
from api.openapi_spec import openapi_document
from ops.processes import free_port
from worker.domain.errors import ERROR_CODES
from worker.domain.records import Status, TxRecord, TxRequest, new_id
from worker.domain.requests import EXTRA_FIELDS, TX_FIELDS
from worker.services import Services
from worker.settings import Settings
from worker.signing.base import VaultAccount

IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered by Flask itself for every route
SENDER = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.fixture
def app() -> Flask:
    """An app whose dependencies are all unreachable: building it and serving the document
    must not need them."""
    closed = free_port()
    settings = Settings(redis_url=f"redis://127.0.0.1:{closed}/0",
                        node_url=f"http://127.0.0.1:{closed}", auth="off")
    return create_app(Services(settings), enqueue=lambda tx_id: None)


@pytest.fixture
def doc(app: Flask) -> dict[str, Any]:
    resp = app.test_client().get("/openapi.json")
    assert resp.status_code == 200
    body: dict[str, Any] = resp.get_json()
    return body


def _openapi_path(rule: str) -> str:
    """Flask's ``/transactions/<tx_id>`` (or ``<int:n>``) as OpenAPI's ``/transactions/{tx_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {(_openapi_path(rule.rule), method.lower())
            for rule in app.url_map.iter_rules() if rule.endpoint != "static"
            for method in (rule.methods or set()) - IGNORED_METHODS}


def _documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, ops in doc["paths"].items() for method in ops}


def _validator(doc: dict[str, Any], schema: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema}",
                                 "components": doc["components"]})


def test_document_is_valid_openapi(doc: dict[str, Any]) -> None:
    validate(doc)
    assert doc["openapi"].startswith("3.")
    assert doc == openapi_document()


def test_every_route_is_documented(app: Flask, doc: dict[str, Any]) -> None:
    missing = _routes(app) - _documented(doc)
    assert not missing, f"routes missing from api/openapi_spec.py PATHS: {sorted(missing)}"


def test_every_documented_operation_exists(app: Flask, doc: dict[str, Any]) -> None:
    extra = _documented(doc) - _routes(app)
    assert not extra, f"documented operations without a route: {sorted(extra)}"


def test_the_route_comparison_sees_differences(app: Flask) -> None:
    app.add_url_rule("/undocumented/<int:n>", "undocumented", lambda n: "",
                     methods=["PUT"])
    assert _routes(app) - _documented(openapi_document()) == {("/undocumented/{n}", "put")}


def test_operations_are_complete(doc: dict[str, Any]) -> None:
    ids = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            ids.append(op["operationId"])
            assert op["summary"] and op["responses"], (path, method)
            assert {"404", "405", "500"} <= set(op["responses"]), (path, method)
            declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
            assert declared == set(re.findall(r"{([^}]+)}", path)), (path, method)
    assert len(ids) == len(set(ids))


def test_request_schema_lists_every_accepted_field(doc: dict[str, Any]) -> None:
    schema = doc["components"]["schemas"]["TransactionRequest"]
    assert set(schema["properties"]) == (TX_FIELDS - {"nonce"}) | EXTRA_FIELDS
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["from"]
    post = doc["paths"]["/transactions"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TransactionRequest"}
    header = doc["components"]["parameters"]["IdempotencyKey"]
    assert (header["name"], header["in"]) == ("Idempotency-Key", "header")
    assert {"200", "202", "400", "409", "413", "415"} <= set(post["responses"])


@pytest.mark.parametrize(("body", "valid"), [
    ({"from": SENDER, "value": 1, "gasPrice": "0x10", "type": 0}, True),
    ({"from": SENDER, "value": "1000", "maxFeePerGas": 2, "maxPriorityFeePerGas": 1,
      "type": "0x2", "accessList": [{"address": SENDER, "storageKeys": ["0x" + "0" * 64]}],
      "chainId": 31337, "metadata": {"a": 1}, "webhookUrl": "https://example.com/h",
      "data": "0x", "input": "0x", "gas": 21000, "to": None}, True),
    ({"from": SENDER, "nonce": 1}, False),
    ({"from": SENDER, "value": -1}, False),
    ({"from": SENDER, "value": "1.5"}, False),
    ({"from": SENDER, "data": "0xabc"}, False),
    ({"from": SENDER, "type": 3}, False),
    ({"to": SENDER}, False),
])
def test_request_schema_agrees_with_the_validator(doc: dict[str, Any], body: dict[str, Any],
                                                  valid: bool) -> None:
    assert _validator(doc, "TransactionRequest").is_valid(body) is valid


def test_error_schema_enumerates_every_code(doc: dict[str, Any]) -> None:
    code = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    assert set(code["enum"]) == set(ERROR_CODES)


def test_schemas_accept_real_bodies(doc: dict[str, Any]) -> None:
    record = TxRecord(id=new_id(), request=TxRequest(sender=SENDER, value=5, gas=21000),
                      chain_id=31337, gas=21000, max_fee_per_gas=10, nonce=3, tx_type=2)
    record.transition(Status.SIGNED, "signed")
    _validator(doc, "Transaction").validate(record.to_api())
    _validator(doc, "TransactionList").validate({"transactions": [record.to_api()],
                                                 "nextCursor": None})
    account = VaultAccount(address=SENDER, key_name="k", key_version="v",  # type: ignore[arg-type]
                           key_id="https://v/keys/k/v", public_key=b"\0" * 64)
    _validator(doc, "AccountList").validate({"accounts": [account.to_dict()]})


def test_schemas_accept_live_responses(app: Flask, doc: dict[str, Any]) -> None:
    client = app.test_client()
    for path, schema, status in (("/healthz", "Health", 200), ("/readyz", "Readiness", 503),
                                 ("/status", "Status", 200), ("/nope", "Error", 404),
                                 ("/transactions/x", "Error", 404)):
        resp = client.get(path)
        assert resp.status_code == status, path
        _validator(doc, schema).validate(resp.get_json())
    status_schema = doc["components"]["schemas"]["Status"]
    assert set(client.get("/status").get_json()) == set(status_schema["required"])
