"""Redis key names of the webhook feature, all under ``kvsigner:wh:``.

``cur:{tx}``              how many history entries of a record have been published
``open``                  ids of records whose publishing is not finished (for the sweep)
``evt:{event}``           an event's JSON body, exactly the bytes every attempt sends
``dlv:{delivery}``        a delivery (one event to one target) with its attempt log
``chain:{tx}:{target}``   pending deliveries of one record to one target, by history index;
                          only the first may be attempted (per-target order)
``due``                   deliveries by the time (Unix seconds) they should be looked at next
``idx:all``, ``idx:tx:{tx}``, ``idx:sub:{sub}``
                          the delivery log's listing indexes (``{created_ms:015d}:{id}``)
``sub:{id}``, ``subs``    subscriptions (with their secrets) and the set of their ids
"""

from __future__ import annotations

from worker.store.records import PREFIX

BASE = f"{PREFIX}wh:"
OPEN = f"{BASE}open"
DUE = f"{BASE}due"
IDX_ALL = f"{BASE}idx:all"
SUBS = f"{BASE}subs"


def cursor(tx_id: str) -> str:
    return f"{BASE}cur:{tx_id}"


def event(event_id: str) -> str:
    return f"{BASE}evt:{event_id}"


def delivery(delivery_id: str) -> str:
    return f"{BASE}dlv:{delivery_id}"


def chain(tx_id: str, target: str) -> str:
    return f"{BASE}chain:{tx_id}:{target}"


def idx_tx(tx_id: str) -> str:
    return f"{BASE}idx:tx:{tx_id}"


def idx_sub(sub_id: str) -> str:
    return f"{BASE}idx:sub:{sub_id}"


def subscription(sub_id: str) -> str:
    return f"{BASE}sub:{sub_id}"
