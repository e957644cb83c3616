"""Retry policy for one vault sign call: exponential backoff with full jitter.

The Azure SDK's own retries are switched off for signing (it retries a POST on 429 only
when Retry-After is present, and with its own long waits), so this loop owns every retry
decision. Schedule, following Microsoft's guidance for Key Vault throttling: before retry
``i`` (0-based) wait ``uniform(0, min(cap, base * 2**i))`` (1, 2, 4, 8, 16 s before jitter),
or exactly the vault's ``Retry-After`` when it sent one. A ``Retry-After`` longer than the
cap is not waited out here: the call fails at once as retryable, so the worker's task-level
retry (not a blocked thread) carries the wait.

``sleep`` and ``random`` are injectable so the policy is tested without waiting. Instances
are immutable and safe to share between threads.
"""

from __future__ import annotations

import logging
import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from worker import metrics
from worker.domain.errors import VaultError
from worker.signing.vault_errors import Failure, classify

T = TypeVar("T")
log = logging.getLogger(__name__)

Classifier = Callable[[BaseException, str], Failure | None]


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``retries`` retries of a transient failure, each wait at most ``cap`` seconds."""

    retries: int = 5
    cap: float = 16.0
    base: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    random: Callable[[], float] = field(default=_random.random, repr=False)
    classify: Classifier = field(default=classify, repr=False)

    def backoff(self, retry_index: int) -> float:
        """The jittered wait before retry ``retry_index`` (0-based) when no Retry-After."""
        ceiling = min(self.cap, self.base * (2 ** min(retry_index, 32)))
        return max(0.0, min(ceiling, self.random() * ceiling))

    def run(self, call: Callable[[], T], what: str) -> T:
        """Call ``call()`` until it succeeds, a permanent error occurs, or retries run out.

        Raises the classified ``VaultError`` at once for permanent failures; after the last
        retry raises the last transient failure's error (``vault_throttled`` or
        ``vault_unavailable``, both retryable) with ``details["attempts"]``. Exceptions the
        classifier does not recognise propagate unchanged.
        """
        retry_index = 0
        while True:
            try:
                return call()
            except VaultError:
                raise
            except Exception as exc:
                failure = self.classify(exc, what)
                if failure is None:
                    raise
                if not failure.transient:
                    raise failure.error from exc
                wait = self._wait(failure, retry_index)
                metrics.vault_failure(failure.error.code, retrying=wait is not None)
                if wait is None:
                    raise self._give_up(failure, retry_index + 1) from exc
                log.warning("%s; retry %d/%d in %.2fs", failure.error.message,
                            retry_index + 1, self.retries, wait)
            self.sleep(wait)
            retry_index += 1

    def _wait(self, failure: Failure, retry_index: int) -> float | None:
        """Seconds before the next attempt, or ``None`` to give up now."""
        if retry_index >= self.retries:
            return None
        if failure.retry_after is not None:
            return failure.retry_after if failure.retry_after <= self.cap else None
        return self.backoff(retry_index)

    def _give_up(self, failure: Failure, attempts: int) -> VaultError:
        error = failure.error
        details: dict[str, object] = {"attempts": attempts}
        if failure.retry_after is not None:
            details["retryAfter"] = failure.retry_after
        suffix = f" (gave up after {attempts} attempt{'s' if attempts != 1 else ''})"
        return type(error)(error.code, error.message + suffix, retryable=True, details=details)
