"""Which IP addresses a webhook may reach, and the operator's allowlist.

A webhook URL is chosen by an API client, so without a guard it lets that client make the
service call its own network: the cloud metadata endpoint (credentials!), Redis, the node, the
vault emulator. Every address is sorted into a category; anything but ``public`` is refused
unless ``KVSIGNER_WEBHOOK_ALLOW`` admits its category, its network or its host name.

Host spellings that the C library's resolver treats as IPv4 (``2130706433``, ``0x7f.1``,
``0177.0.0.1``, ``127.1``) are decoded here the same way, so they cannot slip past as "names".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*cidrs: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# First match wins: the metadata endpoints sit inside link-local and CGNAT space, and must
# stay refused when an operator admits those ranges.
RULES: tuple[tuple[str, tuple[Network, ...]], ...] = (
    ("metadata", _nets("169.254.169.254/32", "169.254.170.2/32", "169.254.169.253/32",
                       "100.100.100.200/32", "fd00:ec2::254/128")),
    ("unspecified", _nets("0.0.0.0/8", "::/128")),
    ("loopback", _nets("127.0.0.0/8", "::1/128")),
    ("private", _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")),
    ("linklocal", _nets("169.254.0.0/16", "fe80::/10")),
    ("cgnat", _nets("100.64.0.0/10")),
    ("multicast", _nets("224.0.0.0/4", "ff00::/8")),
    ("reserved", _nets(
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
        "::/96", "100::/64", "2001::/23", "2001:db8::/32", "64:ff9b:1::/48", "fec0::/10")),
)
CATEGORIES = frozenset(name for name, _ in RULES)
LABELS = {"metadata": "a cloud metadata", "unspecified": "an unspecified",
          "loopback": "a loopback", "private": "a private", "linklocal": "a link-local",
          "cgnat": "a carrier-grade NAT", "multicast": "a multicast", "reserved": "a reserved"}

# Names that are special whatever DNS says (RFC 6761 and the clouds' metadata names).
_LOOPBACK_NAMES = ("localhost",)
_METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog",
                             "instance-data", "instance-data.ec2.internal"})


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64 or 6to4), if any: a
    connection to it reaches that IPv4 host, so it must be judged as that host."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def category(ip: IPAddress) -> str:
    """``public`` or the name of the first rule that matches ``ip`` (or its IPv4 form)."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        return category(inner)
    for name, nets in RULES:
        if any(ip in net for net in nets):
            return name
    return "public"


def name_category(host: str) -> str | None:
    """The category a host *name* implies by itself (``localhost``, metadata names)."""
    host = host.rstrip(".").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return "loopback"
    if host in _METADATA_NAMES:
        return "metadata"
    return None


def parse_ipv4_loose(host: str) -> ipaddress.IPv4Address | None:
    """Decode ``host`` as the C library's ``inet_aton`` would (1 to 4 parts, each decimal,
    0-prefixed octal or 0x-prefixed hex; the last part fills the remaining bytes).

    Returns ``None`` when ``host`` is not numeric (a real name). Raises ``ValueError`` when
    it is numeric but out of range, since no resolver agrees on what that means."""
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        value = _number(part)
        if value is None:
            return None
        values.append(value)
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    number = last
    for i, v in enumerate(head):
        number |= v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def _number(part: str) -> int | None:
    low = part.lower()
    try:
        if low.startswith("0x"):
            return int(low[2:] or "0", 16)
        if len(low) > 1 and low.startswith("0"):
            return int(low, 8)
        if low.isdigit():
            return int(low, 10)
    except ValueError:
        return None
    return None


def parse_ip_literal(host: str) -> IPAddress | None:
    """``host`` (as ``urlsplit().hostname`` gives it) as an address, or ``None`` for a name.
    Raises ``ValueError`` for a malformed numeric host."""
    if ":" in host:
        return ipaddress.IPv6Address(host.split("%", 1)[0])
    return parse_ipv4_loose(host)


@dataclass(frozen=True)
class Allowlist:
    """What ``KVSIGNER_WEBHOOK_ALLOW`` admits: categories (``loopback``, ``private``, ...),
    networks (CIDRs) and host names (``hooks.internal`` exactly, ``.corp.example`` for it
    and every name under it). A host name entry trusts that name whatever it resolves to."""

    categories: frozenset[str]
    networks: tuple[Network, ...]
    hosts: frozenset[str]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        cats: set[str] = set()
        nets: list[Network] = []
        hosts: set[str] = set()
        for entry in entries:
            if entry in CATEGORIES:
                cats.add(entry)
                continue
            try:
                nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(cats), tuple(nets), frozenset(hosts))

    def admits_host(self, host: str) -> bool:
        host = host.rstrip(".").lower()
        return any(host == h or (h.startswith(".") and (host.endswith(h) or host == h[1:]))
                   for h in self.hosts)

    def admits(self, ip: IPAddress) -> bool:
        """Whether ``ip`` may be reached: public, or admitted by category or network."""
        cat = category(ip)
        if cat == "public" or cat in self.categories:
            return True
        candidates = [ip] + [a for a in (embedded_ipv4(ip),) if a is not None]
        return any(a in net for a in candidates for net in self.networks
                   if a.version == net.version)
