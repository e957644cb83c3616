"""Wiring: a ``Dispatcher`` for one process's ``Services``.

Settings read here: ``rpc_send_timeout`` (seconds ``eth_sendTransaction`` waits for the
broadcast), ``rpc_max_batch`` (requests per batch) and ``rpc_proxy_deny`` (method prefixes
never passed to the node).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from worker.rpc.dispatch import Dispatcher
from worker.rpc.errors import METHOD_NOT_FOUND, RpcError
from worker.rpc.methods import Handler, RpcContext, local_methods
from worker.rpc.proxy import NodeProxy
from worker.services import Services

DEFAULT_SEND_TIMEOUT = 25.0
#: Subscriptions need a connection that stays open; over HTTP they are refused here rather
#: than proxied (the node would refuse them too, less clearly).
SUBSCRIPTION_METHODS = ("eth_subscribe", "eth_unsubscribe")


def _needs_websocket(method: str) -> Handler:
    def refuse(_params: list[object]) -> object:
        raise RpcError(METHOD_NOT_FOUND, f"{method} needs a WebSocket connection: connect "
                       "to /ws instead of /rpc")
    return refuse


def rpc_context(services: Services, enqueue: Callable[[str], None]) -> RpcContext:
    timeout = services.settings.rpc_send_timeout
    return RpcContext(services, enqueue, send_timeout=timeout)


def build_dispatcher(services: Services, enqueue: Callable[[str], None],
                     extra: Mapping[str, Handler] | None = None,
                     guard: Callable[[Any], str | None] | None = None) -> Dispatcher:
    """A dispatcher with kvsigner's local methods, ``extra`` (the WebSocket's subscription
    relay) or, without it, a refusal of ``eth_subscribe``/``eth_unsubscribe``, and the node
    for everything else."""
    methods = local_methods(rpc_context(services, enqueue))
    if extra is None:
        methods.update({m: _needs_websocket(m) for m in SUBSCRIPTION_METHODS})
    else:
        methods.update(extra)
    max_batch = services.settings.rpc_max_batch
    deny = tuple(p.strip() for p in services.settings.rpc_proxy_deny.split(",") if p.strip())
    return Dispatcher(methods, NodeProxy(services.node), max_batch, deny_prefixes=deny,
                      guard=guard)
