"""The audit log: every vault signature is recorded before and after, fail closed, and read
back with filters and cursors. A local-key signer stands in for the vault; fakeredis for
Redis (tests/integration/test_audit_stack.py runs the real thing)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import fakeredis
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys import keys

from worker import context, metrics
from worker.audit import STREAM, AuditedSigner, AuditLog, signing_for
from worker.audit.query import AuditFilter, newest_first, oldest_first, parse_time
from worker.domain.errors import KvsignerError, ValidationError, VaultError
from worker.domain.records import TxRecord, TxRequest
from worker.signing.base import Signature, VaultAccount
from worker.signing.messages import sign_personal_message
from worker.signing.secp256k1 import address_from_public_key, to_signature
from worker.signing.transactions import sign_transaction

KEY = keys.PrivateKey(bytes.fromhex("11" * 32))
PUBLIC = KEY.public_key.to_bytes()
ADDRESS = address_from_public_key(PUBLIC)
DIGEST = bytes(range(32))
TX: dict[str, Any] = {"from": ADDRESS, "type": 2, "nonce": 7, "maxFeePerGas": 3 * 10**9,
                      "maxPriorityFeePerGas": 10**9, "gas": 21000, "to": ADDRESS, "value": 1,
                      "data": "0x", "chainId": 31337, "accessList": []}


class Vault:
    """A DigestSigner over a local key that remembers what the stream held at each call."""

    def __init__(self, redis: fakeredis.FakeRedis, error: KvsignerError | None = None) -> None:
        self.redis = redis
        self.error = error
        self.seen_before_call: list[list[dict[bytes, bytes]]] = []
        self.account_ = VaultAccount(address=ADDRESS, key_name="k1", key_version="ver1",
                                     key_id="https://v.example/keys/k1/ver1", public_key=PUBLIC)

    def accounts(self) -> list[VaultAccount]:
        return [self.account_]

    def account(self, address: str) -> VaultAccount:
        if address.lower() != ADDRESS.lower():
            raise ValidationError("unknown_account", address)
        return self.account_

    def sign_digest(self, address: str, digest: bytes) -> Signature:
        self.seen_before_call.append([f for _, f in self.redis.xrange(STREAM)])
        if self.error is not None:
            raise self.error
        sig = KEY.sign_msg_hash(digest)
        return to_signature(digest, sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big"),
                            PUBLIC)


class FailingLog(AuditLog):
    """Takes the first ``ok`` round trips, then fails like an unreachable Redis; remembers
    the statuses each round trip carried."""

    def __init__(self, client: fakeredis.FakeRedis, ok: int = 1000) -> None:
        super().__init__(client)
        self.ok = ok
        self.trips: list[list[object]] = []

    def append_all(self, entries: Sequence[Mapping[str, object]],
                   also: Callable[[Any], None] | None = None,
                   replies: list[Any] | None = None) -> list[str]:
        self.trips.append([e.get("status") for e in entries])
        if self.ok <= 0:
            raise KvsignerError("audit_unavailable", "down", retryable=True)
        self.ok -= 1
        return super().append_all(entries, also, replies)


@pytest.fixture
def redis() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


def entries(redis: fakeredis.FakeRedis) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in f.items()} for _, f in redis.xrange(STREAM)]


def test_requested_is_written_before_the_vault_call_and_signed_after(redis: Any) -> None:
    vault = Vault(redis)
    signer = AuditedSigner(vault, AuditLog(redis))
    with context.bound(request_id="req-1", api_key="ops", tx_id="ab" * 16, purpose="x"):
        sig = signer.sign_digest(ADDRESS.lower(), DIGEST)
    assert [[f[b"status"] for f in seen] for seen in vault.seen_before_call] == [[b"requested"]]
    requested, signed = entries(redis)
    assert requested["digest"] == "0x" + DIGEST.hex() == signed["digest"]
    assert requested["signingId"] == signed["signingId"]
    for entry in (requested, signed):
        assert entry["requestId"] == "req-1" and entry["apiKey"] == "ops"
        assert entry["txId"] == "ab" * 16 and entry["purpose"] == "x"
        assert (entry["address"], entry["keyName"], entry["keyVersion"]) == (ADDRESS, "k1",
                                                                             "ver1")
        assert entry["keyId"].endswith("/k1/ver1") and entry["format"] == "1"
    assert signed["status"] == "signed"
    assert (int(signed["r"], 16), int(signed["s"], 16)) == (sig.r, sig.s)
    assert int(signed["v"]) == 27 + sig.recid
    assert int(signed["durationMs"]) >= 0


def test_no_vault_call_when_the_requested_entry_cannot_be_written(redis: Any) -> None:
    vault = Vault(redis)
    with pytest.raises(KvsignerError) as raised:
        AuditedSigner(vault, FailingLog(redis, ok=0)).sign_digest(ADDRESS, DIGEST)
    assert raised.value.code == "audit_unavailable" and raised.value.retryable
    assert vault.seen_before_call == []


def test_unreachable_redis_is_audit_unavailable() -> None:
    server = fakeredis.FakeServer()
    server.connected = False
    with pytest.raises(KvsignerError) as raised:
        AuditLog(fakeredis.FakeRedis(server=server)).append({"status": "requested"})
    assert raised.value.code == "audit_unavailable"


def test_signature_is_withheld_when_its_signed_entry_cannot_be_written(redis: Any) -> None:
    vault = Vault(redis)
    with pytest.raises(KvsignerError) as raised:
        AuditedSigner(vault, FailingLog(redis, ok=1)).sign_digest(ADDRESS, DIGEST)
    assert raised.value.code == "audit_unavailable"
    assert len(vault.seen_before_call) == 1
    assert [e["status"] for e in entries(redis)] == ["requested"]


def test_vault_failure_is_recorded_and_raised_unchanged(redis: Any) -> None:
    error = VaultError("vault_throttled", "429 after every retry")
    with pytest.raises(VaultError) as raised:
        AuditedSigner(Vault(redis, error), AuditLog(redis)).sign_digest(ADDRESS, DIGEST)
    assert raised.value is error
    assert [(e["status"], e.get("error")) for e in entries(redis)] == [
        ("requested", None), ("failed", "vault_throttled")]


def test_nothing_is_recorded_for_what_could_never_be_signed(redis: Any) -> None:
    signer = AuditedSigner(Vault(redis), AuditLog(redis))
    for address, digest, code in ((ADDRESS, b"short", "invalid_field"),
                                  ("0x" + "00" * 20, DIGEST, "unknown_account")):
        with pytest.raises(ValidationError) as raised:
            signer.sign_digest(address, digest)
        assert raised.value.code == code
    assert entries(redis) == []


def test_transaction_result_entry_holds_the_hash(redis: Any) -> None:
    signed = sign_transaction(AuditedSigner(Vault(redis), AuditLog(redis)), TX)
    requested, sig_entry, result = entries(redis)
    assert [requested["status"], sig_entry["status"], result["status"]] == [
        "requested", "signed", "result"]
    assert result["txHash"] == "0x" + bytes(signed.hash).hex()
    assert result["signingId"] == sig_entry["signingId"] and result["address"] == ADDRESS
    assert Account.recover_transaction(signed.raw) == ADDRESS


def test_signed_and_result_entries_of_a_transaction_share_one_round_trip(redis: Any) -> None:
    log = FailingLog(redis)
    sign_transaction(AuditedSigner(Vault(redis), log), TX)
    assert log.trips == [["requested"], ["signed", "result"]]
    assert redis.hgetall(metrics.VAULT_SIGN_SECONDS.key)  # the sample rode along


def test_a_transaction_that_cannot_be_assembled_keeps_its_signed_entry(
        redis: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("worker.signing.transactions.Account.recover_transaction",
                        lambda raw: "0x" + "00" * 20)
    log = FailingLog(redis)
    with pytest.raises(KvsignerError) as raised:
        sign_transaction(AuditedSigner(Vault(redis), log), TX)
    assert raised.value.code == "sender_mismatch"
    assert log.trips == [["requested"], ["signed"]]
    assert [e["status"] for e in entries(redis)] == ["requested", "signed"]


def test_a_held_entry_that_cannot_be_written_leaves_the_assembly_error_standing(
        redis: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("worker.signing.transactions.Account.recover_transaction",
                        lambda raw: "0x" + "00" * 20)
    with pytest.raises(KvsignerError) as raised:
        sign_transaction(AuditedSigner(Vault(redis), FailingLog(redis, ok=1)), TX)
    assert raised.value.code == "sender_mismatch"
    assert [e["status"] for e in entries(redis)] == ["requested"]


def test_a_transaction_is_withheld_when_its_entries_cannot_be_written(redis: Any) -> None:
    log = FailingLog(redis, ok=1)
    with pytest.raises(KvsignerError) as raised:
        sign_transaction(AuditedSigner(Vault(redis), log), TX)
    assert raised.value.code == "audit_unavailable"
    assert log.trips == [["requested"], ["signed", "result"], ["signed", "result"]]
    assert [e["status"] for e in entries(redis)] == ["requested"]


def test_message_signature_is_in_the_signed_entry(redis: Any) -> None:
    with context.bound(purpose="personal_sign"):
        signature = sign_personal_message(AuditedSigner(Vault(redis), AuditLog(redis)),
                                          ADDRESS, "hello")
    page = newest_first(AuditLog(redis), AuditFilter(status="signed"), 10)
    (view,) = page.entries
    assert view["signature"] == "0x" + signature.hex()
    assert view["purpose"] == "personal_sign" and view["txId"] is None
    assert Account.recover_message(encode_defunct(text="hello"), signature=signature) == ADDRESS


def test_an_unaudited_signer_writes_nothing(redis: Any) -> None:
    sign_transaction(Vault(redis), TX)
    assert redis.xlen(STREAM) == 0


@pytest.mark.parametrize(("kind", "cancel", "hashes", "bound", "expected"), [
    ("request", False, [], "transaction", "transaction"),
    ("request", False, ["0x01"], "transaction", "replacement"),
    ("request", True, ["0x01"], None, "cancellation"),
    ("filler", False, [], "transaction", "filler"),
    ("filler", False, [], "personal_sign", "personal_sign"),
])
def test_worker_purposes_come_from_the_record(redis: Any, kind: str, cancel: bool,
                                              hashes: list[str], bound: str | None,
                                              expected: str) -> None:
    rec = TxRecord(id="cd" * 16, request=TxRequest(sender=ADDRESS), chain_id=1, kind=kind,
                   cancel_requested=cancel, hashes=hashes)
    signer = AuditedSigner(Vault(redis), AuditLog(redis), describe={rec.id: rec}.get)
    with context.bound(tx_id=rec.id, purpose=bound):
        signer.sign_digest(ADDRESS, DIGEST)
    assert {e["purpose"] for e in entries(redis)} == {expected}


def test_retention_trims_only_when_set(redis: Any) -> None:
    redis.xadd(STREAM, {"status": "old"}, id="1000-0")
    AuditLog(redis).append({"status": "requested"})
    assert redis.xlen(STREAM) == 2
    AuditLog(redis, retention_days=1).append({"status": "requested"})
    assert [e["status"] for e in entries(redis)] == ["requested", "requested"]


def test_pages_newest_first_with_filters_and_cursors(redis: Any) -> None:
    for i in range(30):
        redis.xadd(STREAM, {"status": "signed" if i % 2 else "requested",
                            "address": ADDRESS if i % 3 else "0x" + "22" * 20,
                            "keyName": f"k{i % 2}"}, id=f"{1000 + i}-0")
    log, flt = AuditLog(redis), AuditFilter(address=ADDRESS.upper().replace("0X", "0x"),
                                            status="signed")
    expected = [f"{1000 + i}-0" for i in reversed(range(30)) if i % 2 and i % 3]
    seen, cursor = [], None
    while True:
        page = newest_first(log, flt, 3, cursor, budget=7)
        seen += [e["id"] for e in page.entries]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert [e["id"] for e in oldest_first(log, flt)] == list(reversed(expected))
    window = AuditFilter(since=1005, until=1007)
    assert [e["id"] for e in newest_first(log, window, 50).entries] == [
        "1007-0", "1006-0", "1005-0"]
    assert newest_first(log, AuditFilter(key="k1"), 100).next_cursor is None


def test_time_parameters() -> None:
    assert parse_time("1714564800000", "since") == 1714564800000
    assert parse_time("2024-05-01T12:00:00Z", "since") == 1714564800000
    assert parse_time("2024-05-01T14:00:00.5+02:00", "until") == 1714564800500
    for bad in ("2024-05-01", "2024-05-01T12:00:00", "yesterday", "-5"):
        with pytest.raises(ValidationError):
            parse_time(bad, "since")


def test_the_record_being_signed_names_the_purpose_without_a_lookup(redis: Any) -> None:
    rec = TxRecord(id="ef" * 16, request=TxRequest(sender=ADDRESS), chain_id=1,
                   hashes=["0x01"])
    looked_up: list[str] = []

    def describe(tx_id: str) -> TxRecord | None:
        looked_up.append(tx_id)
        return None

    signer = AuditedSigner(Vault(redis), AuditLog(redis), describe=describe)
    with context.bound(tx_id=rec.id, purpose="transaction"), signing_for(rec):
        signer.sign_digest(ADDRESS, DIGEST)
    assert looked_up == []
    assert {e["purpose"] for e in entries(redis)} == {"replacement"}
    # Another record's signature (not the one held) is still looked up.
    with context.bound(tx_id="01" * 16, purpose="transaction"), signing_for(rec):
        signer.sign_digest(ADDRESS, DIGEST)
    assert looked_up == ["01" * 16]


def test_the_sign_latency_rides_on_the_signed_entry_and_never_fails_it(redis: Any) -> None:
    signer = AuditedSigner(Vault(redis), AuditLog(redis))
    signer.sign_digest(ADDRESS, DIGEST)
    assert [e["status"] for e in entries(redis)] == ["requested", "signed"]
    assert redis.hgetall(metrics.VAULT_SIGN_SECONDS.key)  # the sample was recorded
    redis.set("kvsigner:not-a-hash", "x")
    AuditLog(redis).append({"status": "requested"},
                           also=lambda pipe: pipe.hincrby("kvsigner:not-a-hash", "f", 1))
    assert [e["status"] for e in entries(redis)][-1] == "requested"
