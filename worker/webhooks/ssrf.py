"""The webhook URL guard: applied when a URL is accepted and again right before delivery.

``check_webhook_url`` runs when a client hands us a URL (a subscription, a transaction's
``webhookUrl``). ``pin_target`` runs at delivery time: it resolves the host once, checks every
address, and returns the one address the request must connect to, so a name that resolved to
a public address a moment ago cannot be switched to an internal one for the connection itself
(DNS rebinding). Redirects are never followed by the sender, for the same reason.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from worker.domain.errors import KvsignerError, ValidationError
from worker.settings import Settings
from worker.webhooks.addresses import (
    LABELS,
    Allowlist,
    IPAddress,
    category,
    name_category,
    parse_ip_literal,
)
from worker.webhooks.config import WebhookConfig, parse_allow

MAX_URL_LENGTH = 2048
Resolver = Callable[[str, int], Sequence[str]]


class UrlRefused(Exception):
    """The URL breaks the policy; ``reason`` is a stable word (``scheme``, ``userinfo``,
    ``loopback``, ``private``, ``metadata``, ...). Permanent: retrying cannot help."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class ResolveFailed(Exception):
    """The host name did not resolve now; it may later (retry)."""


@dataclass(frozen=True)
class PinnedTarget:
    """Where to send: connect to ``ip``:``port``, but speak to ``host`` (Host header, TLS SNI
    and certificate name)."""

    scheme: str
    host: str
    host_header: str
    port: int
    ip: str
    path: str


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6). Raises ``ResolveFailed``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ResolveFailed(f"{host} does not resolve: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _split(url: str) -> tuple[SplitResult, str, int]:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UrlRefused("invalid_url", f"must be an http(s) URL of at most {MAX_URL_LENGTH} "
                         "characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UrlRefused("invalid_url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("invalid_url", "is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UrlRefused("scheme", "must use http or https")
    if "@" in parts.netloc or parts.username is not None:
        raise UrlRefused("userinfo", "must not contain a user name or password")
    host = parts.hostname or ""
    if not host:
        raise UrlRefused("invalid_url", "has no host")
    return parts, host, port or (443 if parts.scheme.lower() == "https" else 80)


def _judge(ip: IPAddress, allow: Allowlist, host: str) -> None:
    if allow.admits(ip):
        return
    cat = category(ip)
    shown = host if host == str(ip) else f"{host} ({ip})"
    raise UrlRefused(cat, f"host {shown} is {LABELS[cat]} address, which webhooks may not reach "
                     "(an operator can admit it with KVSIGNER_WEBHOOK_ALLOW)")


def _literal(host: str) -> IPAddress | None:
    try:
        return parse_ip_literal(host)
    except ValueError:
        raise UrlRefused("invalid_host", f"host {host} is a malformed IP address") from None


def _check_name(host: str, allow: Allowlist) -> None:
    cat = name_category(host)
    if cat is not None and cat not in allow.categories:
        raise UrlRefused(cat, f"host {host} is {LABELS[cat]} name, which webhooks may not reach "
                         "(an operator can admit it with KVSIGNER_WEBHOOK_ALLOW)")


def check_url(url: str, allow: Allowlist, resolver: Resolver | None = system_resolver) -> str:
    """Apply the policy to ``url``; returns it unchanged. Raises ``UrlRefused``.

    An IP literal (in any spelling) is judged as is. A host name is judged by its name and,
    with a ``resolver``, by every address it resolves to now; a name that does not resolve
    yet is accepted (delivery checks it again)."""
    _parts, host, port = _split(url)
    ip = _literal(host)
    if ip is not None:
        _judge(ip, allow, host)
        return url
    if allow.admits_host(host):
        return url
    _check_name(host, allow)
    if resolver is not None:
        try:
            addresses = resolver(host, port)
        except ResolveFailed:
            return url
        for addr in addresses:
            _judge(_resolved(addr), allow, host)
    return url


def _resolved(addr: str) -> IPAddress:
    try:
        ip = parse_ip_literal(addr)
    except ValueError:
        ip = None
    if ip is None:
        raise UrlRefused("invalid_host", f"the resolver returned a non-address {addr!r}")
    return ip


def pin_target(url: str, allow: Allowlist, resolver: Resolver = system_resolver) -> PinnedTarget:
    """Resolve ``url``'s host once, check every address, and pin the first one.

    Raises ``UrlRefused`` (permanent: do not retry) or ``ResolveFailed`` (transient)."""
    parts, host, port = _split(url)
    ip = _literal(host)
    if ip is not None:
        _judge(ip, allow, host)
        chosen = str(ip)
    else:
        trusted = allow.admits_host(host)
        if not trusted:
            _check_name(host, allow)
        addresses = list(resolver(host, port))
        if not addresses:
            raise ResolveFailed(f"{host} has no addresses")
        checked = [_resolved(a) for a in addresses]
        if not trusted:
            for addr in checked:
                _judge(addr, allow, host)
        chosen = str(checked[0])
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return PinnedTarget(parts.scheme.lower(), host, parts.netloc, port, chosen, path)


def check_webhook_url(url: str, settings: Settings, *, field: str = "webhookUrl",
                      resolve: bool = True) -> str:
    """The guard for a URL a client hands in; returns the URL to store.

    Raises ``ValidationError`` with code ``webhook_url_forbidden`` (400) and
    ``details={"field", "reason"}`` when the URL is not allowed. With ``resolve`` the host
    name is looked up now (a blocking DNS query)."""
    allow = Allowlist.parse(parse_allow(settings.webhook_allow))
    try:
        return check_url(url, allow, system_resolver if resolve else None)
    except UrlRefused as exc:
        raise ValidationError("webhook_url_forbidden", f"`{field}` {exc.message}",
                              details={"field": field, "reason": exc.reason}) from None


def check_transaction_webhook(url: str, settings: Settings) -> str:
    """``check_webhook_url`` for a transaction's ``webhookUrl``, which additionally needs the
    deployment's signing secret. Raises ``KvsignerError('webhook_secret_not_configured')``."""
    url = check_webhook_url(url, settings)
    if not WebhookConfig.from_settings(settings).secrets:
        raise KvsignerError("webhook_secret_not_configured",
                            "`webhookUrl` cannot be used: the server has no "
                            "KVSIGNER_WEBHOOK_SECRET to sign its deliveries with")
    return url
