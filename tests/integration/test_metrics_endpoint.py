"""``GET /metrics`` against a real Redis, behind the real access control, and the Grafana
dashboard that reads it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from ops.processes import free_port
from worker import metrics
from worker.auth.keys import ApiKeyStore
from worker.domain.errors import NodeError
from worker.domain.records import Status, TxRecord, TxRequest
from worker.services import Services
from worker.settings import Settings
from worker.store.records import RecordStore

pytestmark = pytest.mark.integration

DASHBOARD = Path(__file__).resolve().parents[2] / "ops" / "grafana" / "kvsigner.json"
SENDER = "0x52908400098527886E0F7030069857D2E4169EE7"
METRIC_NAME = re.compile(r"\bkvsigner_[a-z0-9_]+\b")


def client(redis_url: str, **settings: Any) -> FlaskClient:
    closed = free_port()
    services = Services(Settings(redis_url=redis_url, node_url=f"http://127.0.0.1:{closed}",
                                 **settings))
    return create_app(services, enqueue=lambda tx_id: None).test_client()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def fill(redis_url: str) -> None:
    """One sample of each recorded metric, a stored record and a queued message."""
    r = redis.Redis.from_url(redis_url)
    rec = TxRecord(id="ef" * 16, request=TxRequest(sender=SENDER), chain_id=1)
    rec.transition(Status.SIGNED)
    RecordStore(r).create(rec)
    metrics.stage_reached(r, rec)
    metrics.vault_sign(r, 0.2, ok=True)
    metrics.node_error(r, NodeError("fee_too_low", "underpriced", node_class="UNDERPRICED"))
    metrics.webhook_delivery(r, "failed")
    with metrics.recording(r):
        metrics.vault_failure("vault_throttled", retrying=True)
    r.rpush("kvsigner.receipts", "m")
    r.close()


def test_metrics_need_a_key_unless_opened(redis_url: str) -> None:
    assert client(redis_url).get("/metrics").status_code == 401
    _, key = ApiKeyStore(redis.Redis.from_url(redis_url)).create("scraper", read_only=True)
    with_key = client(redis_url).get("/metrics",
                                     headers={"Authorization": f"Bearer {key.reveal()}"})
    assert with_key.status_code == 200
    assert "kvsigner_redis_up 1.0" in with_key.get_data(as_text=True)
    assert client(redis_url, open_status=True).get("/metrics").status_code == 200


def test_recorded_values_are_rendered(redis_url: str) -> None:
    fill(redis_url)
    resp = client(redis_url, auth="off").get("/metrics")
    assert resp.status_code == 200
    s = samples(resp.get_data(as_text=True))
    assert s[("kvsigner_transactions", (("status", "signed"),))] == 1
    assert s[("kvsigner_transactions", (("status", "queued"),))] == 0
    assert s[("kvsigner_transaction_stage_seconds_count", (("stage", "signed"),))] == 1
    assert s[("kvsigner_vault_sign_seconds_count", (("outcome", "ok"),))] == 1
    assert s[("kvsigner_node_errors_total", (("class", "UNDERPRICED"),))] == 1
    assert s[("kvsigner_webhook_deliveries_total", (("outcome", "failed"),))] == 1
    assert s[("kvsigner_vault_throttled_total", ())] == 1
    assert s[("kvsigner_vault_retries_total", ())] == 1
    assert s[("kvsigner_queue_depth", (("queue", "kvsigner.receipts"),))] == 1


def dashboard_queries() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    assert board["panels"], "the dashboard has no panels"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert all(p["targets"] for p in board["panels"])
    return exprs


def test_dashboard_queries_only_metrics_that_exist(redis_url: str) -> None:
    fill(redis_url)
    text = client(redis_url, auth="off").get("/metrics").get_data(as_text=True)
    exposed = {name for name, _ in samples(text)}
    queried = {name for expr in dashboard_queries() for name in METRIC_NAME.findall(expr)}
    assert len(queried) >= 10
    assert queried - exposed == set(), "the dashboard queries metrics /metrics lacks"
    assert "kvsigner_not_a_metric_total" not in exposed  # the comparison can fail
    families = {m.name for m in metrics.ALL}
    shown = {n.removesuffix(suffix) for n in queried
             for suffix in ("_bucket", "_count", "_sum", "") if n.removesuffix(suffix) in families}
    assert families - shown == set(), "a metric has no panel"
