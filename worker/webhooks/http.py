"""One HTTP POST to a pinned address: connect to the checked IP, speak to the URL's host.

The connection goes to ``PinnedTarget.ip`` (the address the SSRF guard approved), while the
``Host`` header, TLS SNI and certificate check use the URL's host name, so virtual hosts and
HTTPS work as if the name had been resolved normally. Redirects are returned, never followed,
and nothing is retried here: the delivery schedule owns retries.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

import urllib3

from worker.webhooks.ssrf import PinnedTarget

USER_AGENT = "kvsigner-webhooks/1"


@dataclass(frozen=True)
class HttpResult:
    """``status`` is the HTTP status, or ``None`` when no response arrived (then ``error``
    says why: timeout, refused, TLS)."""

    status: int | None
    error: str | None
    duration_ms: int


def post(target: PinnedTarget, headers: dict[str, str], body: bytes,
         connect_timeout: float, read_timeout: float) -> HttpResult:
    """POST ``body`` to ``target``. Never raises for network failures."""
    timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.ip, target.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=target.host, assert_hostname=target.host,
            ssl_context=ssl.create_default_context())
    else:
        pool = urllib3.HTTPConnectionPool(target.ip, target.port, timeout=timeout,
                                          retries=False, maxsize=1)
    sent = {"Host": target.host_header, "User-Agent": USER_AGENT,
            "Content-Type": "application/json", **headers}
    start = time.monotonic()
    try:
        response = pool.urlopen("POST", target.path, body=body, headers=sent, redirect=False,
                                retries=False, assert_same_host=False,
                                preload_content=False)
        status = response.status
        try:
            response.read(4096)  # let a small reply finish; its content is not kept
        except (urllib3.exceptions.HTTPError, OSError):
            pass  # the status line is the answer; a slow or broken body does not change it
        finally:
            response.release_conn()
        return HttpResult(status, None, _ms(start))
    except urllib3.exceptions.HTTPError as exc:
        return HttpResult(None, _describe(exc), _ms(start))
    except OSError as exc:
        return HttpResult(None, f"connection error: {type(exc).__name__}", _ms(start))
    finally:
        pool.close()


def _ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


def _describe(exc: Exception) -> str:
    """A short reason without the URL (which may carry a receiver's token)."""
    # NewConnectionError subclasses ConnectTimeoutError, so it is tested first.
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection refused or unreachable"
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return "connect timeout"
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return "read timeout"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "TLS error"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "connection dropped"
    return f"HTTP error: {type(exc).__name__}"
