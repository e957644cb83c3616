"""``GET /metrics``: Prometheus text format, for every process of the deployment.

Workers record their metrics in Redis (``worker.metrics``); ``RedisCollector`` reads them at
scrape time, together with the gauges that Redis answers directly (transactions by status,
queue depths, audit log length, transactions followed by receipt rounds). Series listed in a
metric's ``series`` are shown as zero before their first sample. When Redis cannot be read
the answer is still 200, with ``kvsigner_redis_up 0`` and only the families that could be
read.

It is an ordinary route, so the API's access control applies to it like to any other.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import redis
from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from api.checks import BrokerNotRedis, DependencyChecks
from api.context import api_context
from worker import metrics as m
from worker.audit import STREAM
from worker.store.inbox import KEY as INBOX_KEY
from worker.store.text import as_text
from worker.store.tracked import KEY as TRACKED_KEY

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

Series = tuple[str, ...]


def _decode(raw: dict[Any, Any]) -> dict[tuple[str, ...], str]:
    """A recorded hash as {JSON-decoded field parts: value}; foreign fields are skipped."""
    out: dict[tuple[str, ...], str] = {}
    for key, value in raw.items():
        try:
            parts = json.loads(as_text(key))
        except ValueError:
            continue
        if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
            out[tuple(parts)] = as_text(value)
    return out


def counter_family(metric: m.Metric, raw: dict[Any, Any]) -> CounterMetricFamily:
    values: dict[Series, float] = dict.fromkeys(metric.series, 0.0)
    for labels, text in _decode(raw).items():
        if len(labels) == len(metric.labels):
            values[labels] = float(text)
    family = CounterMetricFamily(metric.name, metric.doc, labels=list(metric.labels))
    for labels, count in sorted(values.items()):
        family.add_metric(list(labels), count)
    return family


def histogram_family(metric: m.Metric, raw: dict[Any, Any]) -> HistogramMetricFamily:
    counts: dict[Series, dict[str, float]] = {s: {} for s in metric.series}
    for parts, value in _decode(raw).items():
        if len(parts) == len(metric.labels) + 1:
            counts.setdefault(parts[:-1], {})[parts[-1]] = float(value)
    family = HistogramMetricFamily(metric.name, metric.doc, labels=list(metric.labels))
    for labels, fields in sorted(counts.items()):
        total, buckets = 0.0, []
        for bound in metric.buckets:
            total += fields.get(m.bucket_name(bound), 0.0)
            buckets.append((floatToGoString(bound), total))
        total += fields.get(m.INF, 0.0)
        buckets.append(("+Inf", total))
        family.add_metric(list(labels), buckets, sum_value=fields.get("sum", 0.0))
    return family


def gauge_family(metric: m.Metric, values: dict[Series, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(metric.name, metric.doc, labels=list(metric.labels))
    for labels, value in sorted(values.items()):
        family.add_metric(list(labels), value)
    return family


class RedisCollector(Collector):
    """Collects every ``worker.metrics`` family from the Redis of ``checks.services``."""

    def __init__(self, checks: DependencyChecks) -> None:
        self.checks = checks

    def collect(self) -> Iterator[Metric]:
        client = self.checks.services.redis
        try:
            with client.pipeline(transaction=False) as pipe:
                for metric in m.RECORDED:
                    pipe.hgetall(metric.key)
                pipe.xlen(STREAM)
                pipe.zcard(TRACKED_KEY)
                pipe.llen(INBOX_KEY)
                *recorded, audit_entries, tracked, inbox = pipe.execute()
            by_status = self.checks.transactions()
        except redis.RedisError as exc:
            log.warning("metrics: Redis could not be read (%s)", type(exc).__name__)
            yield gauge_family(m.REDIS_UP, {(): 0.0})
            return
        for metric, raw in zip(m.RECORDED, recorded, strict=True):
            build = histogram_family if metric.kind == "histogram" else counter_family
            yield build(metric, raw)
        yield gauge_family(m.TRANSACTIONS, {(k,): float(v) for k, v in by_status.items()})
        yield gauge_family(m.AUDIT_ENTRIES, {(): float(audit_entries)})
        yield gauge_family(m.TRACKED, {(): float(tracked)})
        yield gauge_family(m.INBOX, {(): float(inbox)})
        try:
            depths = self.checks.queue_depths()
        except (redis.RedisError, BrokerNotRedis) as exc:
            log.info("metrics: queue depths not available (%s)", type(exc).__name__)
        else:
            yield gauge_family(m.QUEUE_DEPTH, {(k,): float(v) for k, v in depths.items()})
        yield gauge_family(m.REDIS_UP, {(): 1.0})


def render(checks: DependencyChecks) -> bytes:
    """The exposition text of every metric, read now."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(checks))
    return generate_latest(registry)


@bp.get("/metrics")
def metrics_endpoint() -> Response:
    return Response(render(api_context().checks), content_type=CONTENT_TYPE_LATEST)
