"""Standard Webhooks signatures, checked with the reference ``standardwebhooks`` package,
and the event bodies they sign."""

from __future__ import annotations

import base64
import json
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from worker.domain.records import HistoryEntry, Status, TxRecord, TxRequest
from worker.webhooks.events import event_body, events_between
from worker.webhooks.signing import generate_secret, secret_key, sign_headers

SENDER = "0x" + "11" * 20
BODY = b'{"id":"evt_1","type":"transaction.mined","createdAt":"x","data":{"a":1}}'


def test_headers_verify_with_the_reference_verifier() -> None:
    secret = generate_secret()
    headers = sign_headers([secret], "evt_1", BODY)
    assert headers["webhook-id"] == "evt_1"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)


def test_tampered_body_fails() -> None:
    secret = generate_secret()
    headers = sign_headers([secret], "evt_1", BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b'"a":1', b'"a":2'), headers)


def test_other_id_or_other_secret_fails() -> None:
    secret = generate_secret()
    headers = sign_headers([secret], "evt_1", BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "evt_2"})
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_stale_timestamp_fails() -> None:
    secret = generate_secret()
    headers = sign_headers([secret], "evt_1", BODY, timestamp=int(time.time()) - 600)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


def test_rotation_signs_with_every_secret() -> None:
    new, old = generate_secret(), generate_secret()
    headers = sign_headers([new, old], "evt_1", BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(BODY, headers)
    Webhook(old).verify(BODY, headers)


def test_secrets_are_whsec_base64_of_enough_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert secret != generate_secret()
    for bad in ("abc", "whsec_", "whsec_!!!!", "whsec_" + base64.b64encode(b"x" * 16).decode()):
        with pytest.raises(ValueError) as info:
            secret_key(bad)
        assert bad not in str(info.value)  # never quote a secret
    with pytest.raises(ValueError):
        sign_headers([], "evt_1", BODY)


def _record(*statuses: str) -> TxRecord:
    rec = TxRecord(id="ab" * 16, request=TxRequest(sender=SENDER), chain_id=1)
    rec.history = [HistoryEntry(s, 1_700_000_000_000 + i, "") for i, s in enumerate(statuses)]
    rec.status = Status(statuses[-1])
    return rec


def test_events_come_from_status_changes_with_stable_ids() -> None:
    rec = _record("queued", "queued", "signed", "submitted", "mined", "submitted", "mined",
                  "confirmed")
    events = events_between(rec, 0, len(rec.history))
    assert [(e.seq, e.type) for e in events] == [
        (3, "transaction.submitted"), (4, "transaction.mined"), (5, "transaction.reorged"),
        (6, "transaction.mined"), (7, "transaction.confirmed")]
    assert events[0].id == f"evt_{rec.id}_3"
    assert events_between(rec, 4, 6) == events[1:3]  # the same events, whoever derives them
    body = json.loads(event_body(events[-1], rec.to_api()))
    assert body["id"] == events[-1].id and body["type"] == "transaction.confirmed"
    assert body["createdAt"] == "2023-11-14T22:13:20.007Z"
    assert body["data"]["id"] == rec.id and body["data"]["status"] == "confirmed"


def test_terminal_statuses_are_events_notes_are_not() -> None:
    assert [e.type for e in events_between(_record("queued", "failed"), 0, 2)] == [
        "transaction.failed"]
    assert [e.type for e in events_between(_record("queued", "signed", "cancelled"), 0, 3)] == [
        "transaction.cancelled"]
    rec = _record("queued", "signed", "submitted", "submitted", "reverted")
    assert [e.type for e in events_between(rec, 0, 5)] == [
        "transaction.submitted", "transaction.reverted"]
