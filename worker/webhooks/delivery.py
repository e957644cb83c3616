"""One delivery attempt, the retry schedule, and giving up.

``attempt(id)`` is what the ``kvsigner.webhooks.deliver`` task runs. Under a per-delivery
lease (so no two workers ever attempt the same event and target at once) it re-reads the
delivery and does nothing unless it is pending, first in its chain (per-target order) and
due. Then it signs the stored event body, checks the URL again and pins the checked address,
POSTs, and records the attempt: 2xx is delivered; a refused URL, a deleted subscription or a
missing event fail at once; anything else is retried on the schedule until the retry window,
counted from the start of the sequence, is over.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import redis

from worker import metrics
from worker.domain.records import now_ms
from worker.store.leases import Leases
from worker.webhooks import keys
from worker.webhooks.addresses import Allowlist
from worker.webhooks.config import WebhookConfig
from worker.webhooks.deliveries import (
    DELIVERED,
    FAILED,
    PENDING,
    TX_TARGET,
    Attempt,
    Delivery,
    DeliveryStore,
)
from worker.webhooks.dispatch import Dispatcher
from worker.webhooks.http import HttpResult, post
from worker.webhooks.signing import sign_headers
from worker.webhooks.ssrf import ResolveFailed, Resolver, UrlRefused, pin_target, system_resolver
from worker.webhooks.subscriptions import SubscriptionStore

log = logging.getLogger("kvsigner.webhooks")

BLOCKED_RECHECK = 600.0  # a delivery waiting behind another is queued when that one ends
EARLY_TOLERANCE_MS = 500


def retry_delay(schedule: tuple[float, ...], failures: int) -> float:
    """Seconds to wait after the ``failures``-th failed attempt of a sequence: the schedule's
    entry (its last one repeats), with +-20% jitter so receivers are not hit in lockstep."""
    base = schedule[min(max(failures, 1), len(schedule)) - 1]
    return base * random.uniform(0.8, 1.2)  # jitter, not a secret


@dataclass(frozen=True)
class Verdict:
    """What an attempt came to: ``delivered``, ``retry`` or ``failed``, and why."""

    kind: str
    attempt: Attempt
    reason: str | None = None


class Deliverer:
    def __init__(self, client: redis.Redis, store: DeliveryStore, subs: SubscriptionStore,
                 dispatcher: Dispatcher, config: WebhookConfig, countdown_max: float,
                 resolver: Resolver = system_resolver) -> None:
        self.r = client
        self.store = store
        self.subs = subs
        self.dispatcher = dispatcher
        self.config = config
        self.allow = Allowlist.parse(config.allow)
        self.leases = Leases(client)
        self.countdown_max = countdown_max
        self.resolver = resolver

    def attempt(self, delivery_id: str) -> str:
        """Make the next attempt of a delivery if it is its turn. Idempotent and safe to call
        concurrently. Returns what happened (for logs and tests): ``busy``, ``gone``,
        ``done``, ``waiting``, ``early``, ``delivered``, ``retry`` or ``failed``."""
        lease = self.config.attempt_seconds + 15.0
        with self.leases.hold(f"wh:{delivery_id}", lease) as held:
            if not held:
                return "busy"
            d = self.store.get(delivery_id)
            if d is None or d.status != PENDING:
                self.r.zrem(keys.DUE, delivery_id)
                return "gone" if d is None else "done"
            if self.store.head(d.tx_id, d.target) != d.id:
                self.r.zadd(keys.DUE, {d.id: time.time() + BLOCKED_RECHECK})
                return "waiting"
            wait_ms = d.next_at - now_ms()
            if wait_ms > EARLY_TOLERANCE_MS:
                self._not_yet(d, wait_ms / 1000)
                return "early"
            verdict = self._judge(d, self._send(d))
            return self._record(d, verdict)

    def _not_yet(self, d: Delivery, wait: float) -> None:
        """A message arrived before the delivery's time (a duplicate, or a chain kick during
        a backoff). Keep one message on its way, not one per duplicate."""
        score = self.r.zscore(keys.DUE, d.id)
        if score is not None and score > d.next_at / 1000:
            return  # an attempt is already queued for that time (its score has the grace)
        self.r.zadd(keys.DUE, {d.id: d.next_at / 1000})
        if wait <= self.countdown_max:
            self.dispatcher.enqueue(d.id, wait)

    # --- one HTTP attempt ------------------------------------------------------------------
    def _send(self, d: Delivery) -> tuple[HttpResult | None, str | None, bool]:
        """``(result, error, permanent)``: an HTTP result, or an error that stopped the
        attempt before any request and whether retrying can help."""
        if d.target == TX_TARGET:
            secrets = list(self.config.secrets)
            if not secrets:
                return None, "KVSIGNER_WEBHOOK_SECRET is not set", False
        else:
            sub = self.subs.get(d.target)
            if sub is None:
                return None, "subscription deleted", True
            secrets = [sub.secret]
        raw = self.r.get(keys.event(d.event_id))
        if raw is None:
            return None, "event expired", True
        body = raw if isinstance(raw, bytes) else str(raw).encode()
        try:
            headers = sign_headers(secrets, d.event_id, body)
        except ValueError:
            return None, "the signing secret is malformed (not a whsec_ secret)", False
        try:
            target = pin_target(d.url, self.allow, self.resolver)
        except UrlRefused as exc:
            return None, f"URL refused ({exc.reason}): {exc.message}", True
        except ResolveFailed:
            return None, "host name did not resolve", False
        return post(target, headers, body, self.config.connect_timeout,
                    self.config.read_timeout), None, False

    def _judge(self, d: Delivery, sent: tuple[HttpResult | None, str | None, bool]) -> Verdict:
        result, error, permanent = sent
        at = now_ms()
        if result is None:
            attempt = Attempt(at, d.round, 0, None, error)
        else:
            status_error = None if result.status is None or 200 <= result.status < 300 else (
                f"HTTP {result.status}")
            attempt = Attempt(at, d.round, result.duration_ms, result.status,
                              result.error or status_error)
            if result.status is not None and 200 <= result.status < 300:
                return Verdict(DELIVERED, attempt)
        if permanent:
            return Verdict(FAILED, attempt, attempt.error)
        if at - d.started_at >= self.config.window * 1000:
            tries = d.round_attempts() + 1
            return Verdict(FAILED, attempt, f"gave up after {tries} attempts over "
                           f"{int((at - d.started_at) / 1000)} s (last: {attempt.error})")
        return Verdict("retry", attempt)

    # --- recording -----------------------------------------------------------------------
    def _record(self, d: Delivery, verdict: Verdict) -> str:
        metrics.webhook_delivery(self.r, verdict.kind)
        delay = retry_delay(self.config.schedule, d.round_attempts() + 1)

        def change(cur: Delivery) -> bool:
            cur.attempts.append(verdict.attempt)
            if verdict.kind == DELIVERED:
                cur.status, cur.reason = DELIVERED, None
            elif verdict.kind == FAILED:
                cur.status, cur.reason = FAILED, verdict.reason
            else:
                cur.next_at = verdict.attempt.at + int(delay * 1000)
            return True

        def also(pipe: Any, cur: Delivery) -> None:
            if cur.status == PENDING:
                pipe.zadd(keys.DUE, {cur.id: cur.next_at / 1000})

        updated = self.store.update(d.id, change, also)
        if updated is None:
            return "gone"
        self._log(updated, verdict)
        if updated.status == PENDING:
            if delay <= self.countdown_max:
                self.dispatcher.enqueue(d.id, delay)
            return "retry"
        self._promote_next(updated)
        return updated.status

    def _promote_next(self, d: Delivery) -> None:
        """The chain moved on: make its new first delivery due now and queue it."""
        head = self.store.head(d.tx_id, d.target)
        if head is not None:
            self.r.zadd(keys.DUE, {head: time.time()}, lt=True)
            self.dispatcher.enqueue(head)

    @staticmethod
    def _log(d: Delivery, verdict: Verdict) -> None:
        # Only ids and outcomes: URLs may carry a receiver's token, and bodies are data.
        a = verdict.attempt
        outcome = a.status_code if a.status_code is not None else a.error
        if d.status == FAILED:
            log.warning("webhook %s (%s) failed: %s", d.id, d.event_type, d.reason)
        else:
            log.info("webhook %s (%s) attempt %d: %s -> %s", d.id, d.event_type,
                     len(d.attempts), outcome, d.status)
