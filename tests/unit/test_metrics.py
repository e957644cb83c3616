"""Worker metrics recorded in Redis and rendered by the API's collector (fakeredis here, a real
Redis where a Lua script runs;
tests/integration/test_metrics_endpoint.py uses a real Redis and the real auth hook)."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest
import redis as real_redis
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from ops.processes import free_port
from worker import metrics
from worker.domain.errors import KvsignerError, NodeError, VaultError
from worker.domain.records import HistoryEntry, Status, TxRecord, TxRequest, new_id
from worker.reconciler import Repair
from worker.services import Services
from worker.settings import Settings
from worker.signing.retry import RetryPolicy
from worker.signing.vault_errors import Failure

SENDER = "0x52908400098527886E0F7030069857D2E4169EE7"


@pytest.fixture
def redis() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


def client_for(redis: Any) -> FlaskClient:
    closed = free_port()
    services = Services(Settings(redis_url=f"redis://127.0.0.1:{closed}/0", auth="off",
                                 node_url=f"http://127.0.0.1:{closed}"))
    services.__dict__["redis"] = redis  # the cached_property's slot: no real connection
    return create_app(services, enqueue=lambda tx_id: None).test_client()


def scrape(redis: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client_for(redis).get("/metrics")
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(resp.get_data(as_text=True))
            for s in family.samples}


def record(created: int, *steps: tuple[str, int], tx_id: str = "ab" * 16) -> TxRecord:
    rec = TxRecord(id=tx_id, request=TxRequest(sender=SENDER), chain_id=1,
                   created_at=created)
    rec.history = [HistoryEntry(status, at) for status, at in steps]
    rec.status = Status(steps[-1][0]) if steps else Status.QUEUED
    return rec


def test_every_family_is_shown_before_any_sample(redis: Any) -> None:
    samples = scrape(redis)
    names = {name for name, _ in samples}
    for metric in metrics.ALL:
        base = metric.name
        expected = {"histogram": base + "_count", "counter": base}.get(metric.kind, base)
        assert expected in names, metric.name
    assert samples[("kvsigner_node_errors_total", (("class", "NONCE_TOO_LOW"),))] == 0
    assert samples[("kvsigner_queue_depth", (("queue", "kvsigner.send"),))] == 0
    assert samples[("kvsigner_redis_up", ())] == 1


def test_histogram_buckets_accumulate(redis: Any) -> None:
    for seconds, ok in ((0.02, True), (0.3, True), (0.3, True), (100.0, True), (2.0, False)):
        metrics.vault_sign(redis, seconds, ok)
    s = scrape(redis)

    def bucket(le: str, outcome: str = "ok") -> float:
        return s[("kvsigner_vault_sign_seconds_bucket", (("le", le), ("outcome", outcome)))]

    assert [bucket("0.01"), bucket("0.025"), bucket("0.25"), bucket("0.5"), bucket("60.0"),
            bucket("+Inf")] == [0, 1, 1, 3, 3, 4]
    assert s[("kvsigner_vault_sign_seconds_count", (("outcome", "ok"),))] == 4
    assert s[("kvsigner_vault_sign_seconds_sum", (("outcome", "ok"),))] == pytest.approx(100.62)
    assert bucket("2.5", "error") == 1


def test_stage_times_are_observed_once_per_record(redis_url: str) -> None:
    # A real Redis: stages are claimed and counted by one Lua script.
    client = real_redis.Redis.from_url(redis_url)
    tx = new_id()
    steps = [("queued", 1000), ("signed", 1500), ("submitted", 1700), ("confirmed", 4000)]
    for n in (1, 2, 3, 4, 4):
        metrics.stage_reached(client, record(1000, *steps[:n], tx_id=tx))
    s = scrape(client)
    for stage, seconds in (("signed", 0.5), ("submitted", 0.7), ("mined", 3.0),
                           ("confirmed", 3.0)):
        assert s[("kvsigner_transaction_stage_seconds_count", (("stage", stage),))] == 1
        assert s[("kvsigner_transaction_stage_seconds_sum", (("stage", stage),))] == seconds
    # Claimed in Redis, not only in this process: another process counts nothing again.
    assert {k.decode() for k in client.hkeys(f"kvsigner:metrics:seen:{tx}")} == {
        "signed", "submitted", "mined", "confirmed"}


def test_counters(redis: Any) -> None:
    metrics.node_error(redis, NodeError("nonce_conflict", "x", node_class="NONCE_TOO_LOW"))
    metrics.node_error(redis, NodeError("node_unavailable", "x", node_class="TRANSPORT"))
    metrics.node_error(redis, KvsignerError("invalid_field", "not a node error"))
    metrics.nonce_repair(redis, Repair(SENDER, raised_to=5, freed=[1, 2], fillers=["f"]))
    metrics.webhook_delivery(redis, "delivered")
    metrics.webhook_delivery(redis, "retry")
    metrics.webhook_delivery(redis, "retry")
    s = scrape(redis)
    assert s[("kvsigner_node_errors_total", (("class", "NONCE_TOO_LOW"),))] == 1
    assert s[("kvsigner_node_errors_total", (("class", "TRANSPORT"),))] == 1
    assert sum(v for (n, _), v in s.items() if n == "kvsigner_node_errors_total") == 2
    assert {k[1][0][1]: v for k, v in s.items() if k[0] == "kvsigner_nonce_repairs_total"} \
        == {"raised": 1, "rewound": 0, "freed": 2, "forgotten": 0, "filler": 1}
    assert s[("kvsigner_webhook_deliveries_total", (("outcome", "retry"),))] == 2
    assert s[("kvsigner_webhook_deliveries_total", (("outcome", "failed"),))] == 0


def test_vault_retries_are_counted_where_a_sink_is_bound(redis: Any) -> None:
    failures = iter(["vault_throttled", "vault_unavailable", "vault_throttled"])

    def flaky() -> str:
        code = next(failures, None)
        if code is None:
            return "signed"
        raise RuntimeError(code)

    policy = RetryPolicy(retries=5, sleep=lambda s: None, classify=lambda exc, what: Failure(
        VaultError(str(exc), "x"), transient=True))
    assert policy.run(flaky, "sign") == "signed"  # no sink bound: nothing recorded
    assert redis.keys("kvsigner:metrics:*") == []
    failures = iter(["vault_throttled", "vault_unavailable", "vault_throttled"])
    with metrics.recording(redis):
        assert policy.run(flaky, "sign") == "signed"
    s = scrape(redis)
    assert s[("kvsigner_vault_throttled_total", ())] == 2
    assert s[("kvsigner_vault_retries_total", ())] == 3


def test_gauges_come_from_redis_at_scrape_time(redis: Any) -> None:
    redis.rpush("kvsigner.send", "a", "b")
    redis.zadd("kvsigner:idx:status:queued", {"1:x": 0, "2:y": 0})
    redis.xadd("kvsigner:audit", {"status": "requested"})
    redis.zadd("kvsigner:tracked", {"x": 1, "y": 2, "z": 3})
    redis.rpush("kvsigner:inbox", "p", "q", "r", "s")
    s = scrape(redis)
    assert s[("kvsigner_queue_depth", (("queue", "kvsigner.send"),))] == 2
    assert s[("kvsigner_transactions", (("status", "queued"),))] == 2
    assert s[("kvsigner_audit_entries", ())] == 1
    assert s[("kvsigner_tracked_transactions", ())] == 3
    assert s[("kvsigner_inbox_transactions", ())] == 4


def test_recording_never_raises_and_scrape_survives_a_dead_redis() -> None:
    server = fakeredis.FakeServer()
    server.connected = False
    dead = fakeredis.FakeRedis(server=server)
    metrics.vault_sign(dead, 0.1, True)
    metrics.node_error(dead, NodeError("node_unavailable", "x", node_class="TIMEOUT"))
    metrics.stage_reached(dead, record(1, ("signed", 2)))
    with metrics.recording(dead):
        metrics.vault_failure("vault_throttled", retrying=True)
    assert scrape(dead) == {("kvsigner_redis_up", ()): 0}
