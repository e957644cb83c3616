"""What the process environment says about HTTP for one URL, read once.

``requests`` (and the Azure SDK on top of it) otherwise re-reads the proxy and CA-bundle
variables on every request, which is a large share of a short request's CPU. Clients that
are made once and reused read them here when they are built, with ``requests``' own rules
(``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``,
``CURL_CA_BUNDLE``); a change to those variables needs a restart, as any setting does.
"""

from __future__ import annotations

from dataclasses import dataclass

import certifi
import requests


@dataclass(frozen=True)
class HttpEnvironment:
    """``proxies`` maps a scheme to a proxy URL (empty: connect directly); ``ca_file`` is
    the CA bundle to verify TLS with (the environment's, else certifi's)."""

    proxies: dict[str, str]
    ca_file: str


def http_environment(url: str) -> HttpEnvironment:
    """The proxies and CA bundle ``requests`` would use for ``url`` right now."""
    with requests.Session() as session:
        env = session.merge_environment_settings(url, {}, None, None, None)
    verify = env.get("verify")
    return HttpEnvironment(proxies=dict(env.get("proxies") or {}),
                           ca_file=verify if isinstance(verify, str) else certifi.where())
