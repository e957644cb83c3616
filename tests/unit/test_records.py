"""The record's storage form: lossless, complete and independent of the record."""

from __future__ import annotations

import json
from dataclasses import asdict

from worker.domain.records import Status, TxRecord, TxRequest, new_id

SENDER = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"


def full_record() -> TxRecord:
    rec = TxRecord(id=new_id(), chain_id=1, metadata={"order": {"lines": [1, 2]}},
                   request=TxRequest(sender=SENDER, to=SENDER, value=5, gas=21000,
                                     access_list=[{"address": SENDER, "storageKeys": ["0x1"]}]),
                   receipt={"status": 1, "blockNumber": 7}, error={"code": "x", "message": "y"})
    rec.hashes.append("0xaa")
    rec.cancel_hashes.append("0xbb")
    rec.transition(Status.SIGNED, "signed")
    return rec


def test_storage_form_holds_every_field_and_round_trips() -> None:
    rec = full_record()
    stored = rec.to_json_dict()
    expected = asdict(rec)
    expected["status"] = rec.status.value
    assert stored == expected
    assert TxRecord.from_json_dict(json.loads(json.dumps(stored))) == rec


def test_storage_form_shares_nothing_mutable_with_the_record() -> None:
    rec = full_record()
    stored = rec.to_json_dict()
    stored["metadata"]["order"]["lines"].append(3)
    stored["hashes"].append("0xcc")
    stored["request"]["access_list"][0]["storageKeys"].append("0x2")
    stored["history"][0]["note"] = "changed"
    assert rec.metadata == {"order": {"lines": [1, 2]}}
    assert rec.hashes == ["0xaa"]
    assert rec.request.access_list == [{"address": SENDER, "storageKeys": ["0x1"]}]
    assert rec.history[0].note == "signed"
