"""The webhook URL guard: what is refused, with which reason, and what the allowlist admits."""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

import pytest

from worker.domain.errors import ValidationError
from worker.settings import Settings
from worker.webhooks.addresses import Allowlist
from worker.webhooks.ssrf import UrlRefused, check_webhook_url, pin_target


def settings(**extra: Any) -> Settings:
    """Settings with webhook attributes, whether or not ``Settings`` declares them yet."""
    names = {f.name for f in dataclasses.fields(Settings)}
    made = Settings(**{k: v for k, v in extra.items() if k in names})
    for key, value in extra.items():
        if key not in names:
            object.__setattr__(made, key, value)
    return made


def parse(text: str) -> Any:
    return ipaddress.ip_address(text)


REFUSED = [
    ("http://127.0.0.1/hook", "loopback"),
    ("http://localhost/hook", "loopback"),
    ("http://app.localhost:8080/", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://169.254.169.254/latest/meta-data", "metadata"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("http://169.254.1.1/", "linklocal"),
    ("http://[::1]/", "loopback"),
    ("http://[fe80::1]/", "linklocal"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://[64:ff9b::a00:1]/", "private"),
    ("http://[2002:7f00:1::]/", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://100.64.0.1/", "cgnat"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://192.0.2.10/", "reserved"),
    ("http://256.1.1.1/", "invalid_host"),
    ("ftp://example.com/", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("http://user:pass@example.com/", "userinfo"),
    ("http://user@example.com/", "userinfo"),
    ("http://example.com:99999/", "invalid_url"),
    ("http://exa mple.com/", "invalid_url"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_forbidden_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_webhook_url(url, settings(), resolve=False)
    err = info.value
    assert err.code == "webhook_url_forbidden"
    assert err.http_status == 400
    assert err.details == {"field": "webhookUrl", "reason": reason}
    assert err.message.startswith("`webhookUrl` ")


@pytest.mark.parametrize("url", [
    "http://93.184.216.34/hook",
    "https://8.8.8.8:8443/x?y=1",
    "https://[2606:4700:4700::1111]/hook",
    "https://hooks.example.com/kvsigner",
])
def test_public_destinations_are_accepted(url: str) -> None:
    assert check_webhook_url(url, settings(), resolve=False) == url


def test_loopback_allowlist_admits_loopback_only() -> None:
    allowed = settings(webhook_allow="loopback")
    for url in ("http://127.0.0.1:8000/hook", "http://[::1]:9/", "http://localhost:1/"):
        assert check_webhook_url(url, allowed, resolve=False) == url
    for url, reason in (("http://10.0.0.1/", "private"),
                        ("http://169.254.169.254/", "metadata"),
                        ("http://100.64.0.1/", "cgnat")):
        with pytest.raises(ValidationError) as info:
            check_webhook_url(url, allowed, resolve=False)
        assert info.value.details["reason"] == reason


def test_cidr_and_host_name_entries() -> None:
    allow = Allowlist.parse(["10.1.0.0/16", ".corp.example", "hooks.internal"])
    assert allow.admits(parse("10.1.2.3")) and not allow.admits(parse("10.2.0.1"))
    assert allow.admits_host("a.b.corp.example") and allow.admits_host("corp.example")
    assert allow.admits_host("hooks.internal") and not allow.admits_host("x.hooks.internal")
    # Admitting link-local space does not admit the metadata endpoint inside it.
    assert not Allowlist.parse(["linklocal"]).admits(parse("169.254.169.254"))


def test_names_are_judged_by_every_address_they_resolve_to() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]  # one bad address is enough to refuse

    allow = Allowlist.parse([])
    with pytest.raises(UrlRefused) as info:
        pin_target("https://rebind.example/hook", allow, resolver)
    assert info.value.reason == "private"


def test_delivery_pins_the_checked_address_and_keeps_the_host() -> None:
    target = pin_target("https://hooks.example.com:8443/a/b?c=1", Allowlist.parse([]),
                        lambda host, port: ["93.184.216.34", "2606:4700::1"])
    assert (target.ip, target.port, target.host) == ("93.184.216.34", 8443, "hooks.example.com")
    assert target.host_header == "hooks.example.com:8443"
    assert target.path == "/a/b?c=1"
    literal = pin_target("http://0x5d.0xb8.0xd8.0x22/", Allowlist.parse([]),
                         lambda host, port: pytest.fail("an IP literal needs no DNS"))
    assert literal.ip == "93.184.216.34"
