"""The bodies of ``/readyz`` and ``/status``, built from bounded dependency checks.

Neither ever fails because a dependency does: an unreachable one is reported as
``reachable: false`` (with a secret-free ``error`` name) and its numbers as ``null``.
URLs are shown as origins only (scheme, host, port): userinfo, path, query and fragment are
dropped because node providers put API keys in any of them (``/v3/<key>``, ``?apikey=``).
"""

from __future__ import annotations

import functools
import importlib.metadata
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from api.checks import DependencyChecks
from api.probes import CheckResult, Prober

_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@functools.cache
def version() -> str:
    """The installed distribution's version, else the source tree's, else ``unknown``."""
    try:
        return importlib.metadata.version("kvsigner")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        return str(tomllib.loads(_PYPROJECT.read_text())["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url``, or None when it has no host."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        port = parts.port
    except ValueError:  # a malformed port: show none rather than fail the status page
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def interfaces(base_url: str) -> dict[str, str]:
    """Where clients reach each interface, under ``base_url`` (http or https)."""
    base = base_url.rstrip("/")
    ws_base = "ws" + base[len("http"):] if base.startswith("http") else base
    return {"rest": base, "rpc": f"{base}/rpc", "ws": f"{ws_base}/ws",
            "openapi": f"{base}/openapi.json"}


def readiness(prober: Prober, checks: DependencyChecks) -> tuple[dict[str, Any], int]:
    """``(body, 200)`` when Redis, the node and the vault all answer, else ``(body, 503)``."""
    results = prober.run(checks.readiness())
    ready = all(r.ok for r in results.values())
    body = {"status": "ready" if ready else "unavailable",
            "checks": {name: r.summary() for name, r in results.items()}}
    return body, 200 if ready else 503


def _reach(result: CheckResult) -> dict[str, Any]:
    out: dict[str, Any] = {"reachable": result.ok}
    if result.error is not None:
        out["error"] = result.error
    return out


def _value(result: CheckResult) -> Any:
    return result.value if result.ok else None


def status(prober: Prober, checks: DependencyChecks, base_url: str) -> dict[str, Any]:
    """The ``/status`` document (see the OpenAPI ``Status`` schema)."""
    settings = checks.services.settings
    r = prober.run(checks.status())
    return {
        "version": version(),
        "chainId": r["node"].value if r["node"].ok else settings.chain_id,
        "latestBlock": _value(r["block"]),
        "node": {"url": origin(settings.node_url), **_reach(r["node"])},
        "redis": _reach(r["redis"]),
        "vault": {"url": origin(settings.vault_url), **_reach(r["vault"]),
                  "accounts": _value(r["vault"])},
        "queues": _value(r["queues"]),
        "workers": _value(r["workers"]),
        "transactions": _value(r["transactions"]),
        "interfaces": interfaces(settings.public_url or base_url),
    }
