"""Signed webhooks end to end: a real receiver verifies every request with the reference
``standardwebhooks`` package. The stack tests run the API, three worker processes, beat,
Redis, anvil and the vault emulator; the others drive the delivery code directly against a
real Redis."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from ops.devstack import DevStack
from tests.integration.stack_helpers import get_tx, post_tx, rpc, use_stack
from worker.celery_app import make_celery
from worker.domain.errors import ValidationError
from worker.domain.records import Status, TxRecord, TxRequest, new_id
from worker.queues import WEBHOOKS_QUEUE
from worker.services import Services
from worker.settings import Secret, Settings
from worker.store.leases import Leases
from worker.store.records import RecordStore
from worker.webhooks import keys, runtime
from worker.webhooks.dispatch import DELIVER_TASK
from worker.webhooks.events import EVENT_TYPES
from worker.webhooks.publish import open_from_creation
from worker.webhooks.signing import generate_secret
from worker.webhooks.ssrf import check_webhook_url
from worker.webhooks.sweep import catch_up

pytestmark = pytest.mark.integration
TX_SECRET = generate_secret()
KINDS = ["transaction.submitted", "transaction.mined", "transaction.confirmed"]


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """An HTTP server on 127.0.0.1 that verifies each request with the secret of its path,
    answers 400 when verification fails, 500 for the first ``fail_first[path]`` requests of
    each event id, and 200 otherwise."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.fail_first: dict[str, int] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.answer(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        secret = self.secrets.get(handler.path, "whsec_" + "A" * 44)
        try:
            Webhook(secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        with self.lock:
            earlier = sum(1 for h in self.hits if h.path == handler.path
                          and h.headers.get("webhook-id") == headers.get("webhook-id"))
            status = 400 if not verified else (
                500 if earlier < self.fail_first.get(handler.path, 0) else 200)
            self.hits.append(Hit(handler.path, headers, body, verified, status))
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def accepted(self, path: str, tx_id: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path and h.answered == 200
                    and h.event["data"]["id"] == tx_id]

    def all_for(self, path: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def settings_with(base: Settings, **extra: Any) -> Settings:
    """``base`` with webhook attributes, whether or not ``Settings`` declares them yet."""
    names = {f.name for f in dataclasses.fields(Settings)}
    made = base.replace(**{k: v for k, v in extra.items() if k in names})
    for key, value in extra.items():
        if key not in names:
            object.__setattr__(made, key, value)
    return made


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.secrets["/tx"] = TX_SECRET
    yield rec
    rec.server.shutdown()


# --- the stack -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    stack = DevStack(tmp_path_factory.mktemp("webhooks"), api_port=18095, workers=3, keys=2,
                     worker_concurrency=4, extra_env={
                         "KVSIGNER_WEBHOOK_ALLOW": "loopback",
                         "KVSIGNER_WEBHOOK_SECRET": TX_SECRET,
                         "KVSIGNER_WEBHOOK_RETRY_SCHEDULE": "0.5,0.5,1",
                         "KVSIGNER_WEBHOOK_RETRY_WINDOW_SECONDS": "60",
                         "KVSIGNER_WEBHOOK_SWEEP_SECONDS": "1",
                         "KVSIGNER_CONFIRMATIONS": "2",
                         "KVSIGNER_RECEIPT_POLL_SECONDS": "0.5"})
    use_stack(stack.start())
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def client(stack: DevStack) -> Iterator[FlaskClient]:
    """The API app over the stack's Redis, with the webhooks blueprint registered."""
    from api.app import create_app
    from api.webhooks import blueprint

    services = Services(Settings.from_env(stack.env))
    app = create_app(services, enqueue=lambda tx_id: None)
    if "webhooks" not in app.blueprints:
        app.register_blueprint(blueprint)
    celery = make_celery(services.settings)
    runtime.use(services, runtime.build(services.redis, services.settings, enqueue=(
        lambda did, countdown: celery.send_task(DELIVER_TASK, args=[did], queue=WEBHOOKS_QUEUE,
                                                countdown=countdown or None))))
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {stack.info['apiKey']}"
    yield test_client
    services.close()


def subscribe(client: FlaskClient, url: str, **fields: Any) -> dict[str, Any]:
    resp = client.post("/webhooks", json={"url": url, **fields})
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def confirm(stack: DevStack, tx_id: str) -> None:
    """Wait until the record is mined, then mine blocks until it is confirmed."""
    api, node = stack.info["api"], stack.info["nodeUrl"]
    wait_for(lambda: get_tx(api, tx_id)["status"] in ("mined", "confirmed"), 60, "mined")
    deadline = time.monotonic() + 60
    while get_tx(api, tx_id)["status"] != "confirmed":
        assert time.monotonic() < deadline, get_tx(api, tx_id)
        rpc(node, "evm_mine")
        time.sleep(0.5)


def test_each_event_reaches_both_targets_exactly_once_in_order(
        stack: DevStack, client: FlaskClient, receiver: Receiver) -> None:
    sender, other = stack.info["accounts"]
    sub = subscribe(client, receiver.url("/sub"), sender=sender)
    assert sub["secret"].startswith("whsec_") and sub["events"][0] == "transaction.submitted"
    receiver.secrets["/sub"] = sub["secret"]
    listed = client.get("/webhooks").get_json()["subscriptions"]
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]

    resp = post_tx(stack.info["api"], {"from": sender, "to": other, "value": "1",
                                       "webhookUrl": receiver.url("/tx")})
    assert resp.status_code == 202, resp.text
    tx_id = resp.json()["id"]
    confirm(stack, tx_id)
    wait_for(lambda: all(len(receiver.accepted(p, tx_id)) >= 3 for p in ("/tx", "/sub")),
             30, "three events at each receiver")
    time.sleep(2.0)  # a duplicate (another worker, a retry) would arrive within this
    for path in ("/tx", "/sub"):
        hits = [h for h in receiver.all_for(path) if h.event["data"]["id"] == tx_id]
        assert [h.event["type"] for h in hits] == KINDS, path
        assert all(h.verified and h.answered == 200 for h in hits)
        assert [h.headers["webhook-id"] for h in hits] == [h.event["id"] for h in hits]
        assert len({h.event["id"] for h in hits}) == 3
    log = client.get(f"/webhooks/deliveries?transactionId={tx_id}").get_json()["deliveries"]
    assert len(log) == 6
    assert {(d["status"], d["attemptCount"]) for d in log} == {("delivered", 1)}
    assert {d["subscriptionId"] for d in log} == {None, sub["id"]}
    # What the receiver verified, tampered with, must fail verification.
    hit = receiver.accepted("/tx", tx_id)[-1]
    Webhook(TX_SECRET).verify(hit.body, hit.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(TX_SECRET).verify(hit.body.replace(b'"confirmed"', b'"reverted"'), hit.headers)


def test_a_failing_receiver_gets_the_event_on_the_fourth_attempt(
        stack: DevStack, client: FlaskClient, receiver: Receiver) -> None:
    sender, other = stack.info["accounts"]
    sub = subscribe(client, receiver.url("/flaky"), events=["transaction.submitted"],
                    sender=other)
    receiver.secrets["/flaky"] = sub["secret"]
    receiver.fail_first["/flaky"] = 3
    tx_id = post_tx(stack.info["api"], {"from": other, "to": sender, "value": "2"}).json()["id"]
    wait_for(lambda: bool(receiver.accepted("/flaky", tx_id)), 60, "the flaky delivery")
    hits = receiver.all_for("/flaky")
    assert [h.answered for h in hits] == [500, 500, 500, 200]
    assert len({h.headers["webhook-id"] for h in hits}) == 1
    [entry] = client.get(f"/webhooks/deliveries?subscriptionId={sub['id']}").get_json()[
        "deliveries"]
    assert entry["status"] == "delivered" and entry["eventType"] == "transaction.submitted"
    assert [a["statusCode"] for a in entry["attempts"]] == [500, 500, 500, 200]

    # Redelivery: a new attempt sequence for the same event id.
    resp = client.post(f"/webhooks/deliveries/{entry['id']}/redeliver")
    assert resp.status_code == 202 and resp.get_json()["status"] == "pending"
    wait_for(lambda: len(receiver.all_for("/flaky")) == 5, 30, "the redelivery")
    assert receiver.all_for("/flaky")[-1].headers["webhook-id"] == entry["eventId"]
    wait_for(lambda: client.get(f"/webhooks/deliveries/{entry['id']}").get_json()["status"]
             == "delivered", 10, "the redelivery to be logged")


def test_forbidden_urls_are_refused_when_subscribing(stack: DevStack,
                                                     client: FlaskClient) -> None:
    for url, reason in (("http://10.0.0.1/hook", "private"),
                        ("http://169.254.169.254/latest/meta-data", "metadata"),
                        ("http://user:pw@example.com/", "userinfo")):
        resp = client.post("/webhooks", json={"url": url})
        assert resp.status_code == 400, resp.get_json()
        error = resp.get_json()["error"]
        assert error["code"] == "webhook_url_forbidden"
        assert error["details"] == {"field": "url", "reason": reason}
    with pytest.raises(ValidationError) as info:
        check_webhook_url("http://192.168.0.10/", Settings.from_env(stack.env))
    assert info.value.details["reason"] == "private"
    sub = subscribe(client, "http://127.0.0.1:9/never")  # the stack admits loopback
    assert client.delete(f"/webhooks/{sub['id']}").status_code == 204
    assert client.get(f"/webhooks/{sub['id']}").status_code == 404


# --- the delivery code against a real Redis, without the stack -------------------------------

@pytest.fixture
def direct(redis_url: str) -> Iterator[tuple[RecordStore, list[str], Callable[..., Any]]]:
    client = redis.Redis.from_url(redis_url)
    store = RecordStore(client)
    queued: list[str] = []

    def make(resolver: Any = None, **extra: Any) -> runtime.Webhooks:
        settings = settings_with(Settings(redis_url=redis_url), webhook_secret=Secret(TX_SECRET),
                                 webhook_retry_schedule="0.2", **extra)
        kwargs = {"resolver": resolver} if resolver else {}
        return runtime.build(client, settings, lambda did, cd: queued.append(did), **kwargs)

    yield store, queued, make
    client.close()


def new_record(store: RecordStore, url: str, *statuses: Status) -> TxRecord:
    rec = TxRecord(id=new_id(), request=TxRequest(sender="0x" + "22" * 20), chain_id=1,
                   webhook_url=url)
    store.create(rec)
    for status in statuses:
        rec, _ = store.update(rec.id, partial(TxRecord.transition, status=status))
    return rec


def test_publishing_one_change_from_many_workers_makes_one_delivery(
        direct: Any, receiver: Receiver) -> None:
    store, queued, make = direct
    rec = new_record(store, receiver.url("/tx"), Status.SIGNED, Status.SUBMITTED, Status.MINED)
    # Three workers: separate processes share nothing in memory, only Redis.
    workers = [make(webhook_allow="loopback") for _ in range(3)]
    threads = [threading.Thread(target=w.publisher.publish, args=(rec,))
               for w in workers for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    chain = [m.decode() for m in store.r.zrange(f"kvsigner:wh:chain:{rec.id}:tx", 0, -1)]
    assert len(chain) == 2 and store.r.zcard("kvsigner:wh:idx:all") == 2  # submitted, mined
    first, later = chain
    assert queued == [first]  # only the chain's first delivery is queued
    # Per-target order: the second event waits while the first is pending.
    assert workers[1].deliverer.attempt(later) == "waiting"
    with Leases(store.r).hold(f"wh:{first}", 5):
        assert workers[1].deliverer.attempt(first) == "busy"  # no concurrent attempt
    assert workers[2].deliverer.attempt(first) == "delivered"
    assert workers[0].deliverer.attempt(first) == "done"  # never re-sent
    assert workers[0].deliverer.attempt(later) == "delivered"
    kinds = [h.event["type"] for h in receiver.all_for("/tx") if h.event["data"]["id"] == rec.id]
    assert kinds == ["transaction.submitted", "transaction.mined"]


def test_a_host_resolving_to_loopback_is_refused_at_delivery(
        direct: Any, receiver: Receiver) -> None:
    store, _queued, make = direct
    port = receiver.server.server_address[1]
    wh = make(resolver=lambda host, p: ["127.0.0.1"])  # DNS now points inside
    rec = new_record(store, f"http://hooks.example.test:{port}/rebind", Status.SIGNED,
                     Status.SUBMITTED)
    assert wh.publisher.publish(rec) == 1
    [did] = [m.decode().split(":")[1] for m in store.r.zrange("kvsigner:wh:idx:all", 0, -1)]
    assert wh.deliverer.attempt(did) == "failed"
    delivery = wh.deliveries.get(did)
    assert delivery is not None and delivery.status == "failed"
    assert delivery.reason is not None and "loopback" in delivery.reason
    assert "127.0.0.1" in delivery.reason and len(delivery.attempts) == 1
    assert receiver.all_for("/rebind") == []


def test_the_sweep_publishes_changes_the_hook_missed_and_gives_up_after_the_window(
        direct: Any) -> None:
    store, queued, make = direct
    wh = make(webhook_allow="loopback", webhook_retry_window_seconds=0)
    rec = new_record(store, "http://127.0.0.1:9/closed", Status.SIGNED)
    wh.publisher.publish(rec)  # nothing to deliver yet; the record is now open
    store.update(rec.id, lambda r: r.transition(Status.SUBMITTED))  # the hook never ran
    assert catch_up(wh, store) == 1
    did = queued[-1]
    assert wh.deliverer.attempt(did) == "failed"  # connection refused, window over
    delivery = wh.deliveries.get(did)
    assert delivery is not None and delivery.reason is not None
    assert delivery.reason.startswith("gave up after 1 attempts")


def test_a_record_with_a_webhook_is_open_from_its_creation(direct: Any) -> None:
    store, queued, make = direct
    wh = make(webhook_allow="loopback")
    rec = TxRecord(id=new_id(), request=TxRequest(sender="0x" + "22" * 20), chain_id=1,
                   webhook_url="http://127.0.0.1:9/hook")
    store.create(rec, also=open_from_creation(rec))
    assert store.r.sismember(keys.OPEN, rec.id)
    # Every worker that changed it died before publishing: the sweep still finds it.
    store.update(rec.id, partial(TxRecord.transition, status=Status.SIGNED))
    store.update(rec.id, partial(TxRecord.transition, status=Status.SUBMITTED))
    assert queued == []
    assert catch_up(wh, store) == 1
    [delivery] = [wh.deliveries.get(d) for d in queued]
    assert delivery is not None and delivery.target == "tx"
    plain = TxRecord(id=new_id(), request=TxRequest(sender="0x" + "22" * 20), chain_id=1)
    assert open_from_creation(plain) is None  # no URL: opened by its first publication


def test_with_no_target_nothing_is_stored_and_later_subscribers_get_only_later_events(
        direct: Any) -> None:
    store, queued, make = direct
    wh = make(webhook_allow="loopback")
    rec = new_record(store, "", Status.SIGNED, Status.SUBMITTED)
    assert store.r.scard(keys.SUBS) == 0
    assert wh.publisher.publish(rec) == 0
    assert store.r.get(keys.cursor(rec.id)) is None and store.r.zcard("kvsigner:wh:idx:all") == 0
    assert store.r.sismember(keys.OPEN, rec.id)  # still watched by the sweep
    time.sleep(0.01)
    sub = wh.subscriptions.create("http://127.0.0.1:9/sub", list(EVENT_TYPES), None)
    rec, _ = store.update(rec.id, partial(TxRecord.transition, status=Status.MINED))
    # Published from the start of the history, but "submitted" predates the subscription.
    assert wh.publisher.publish(rec) == 1
    [delivery] = [wh.deliveries.get(d) for d in queued]
    assert delivery is not None and delivery.target == sub.id
    assert delivery.event_id.endswith(f"_{len(rec.history) - 1}")
    wh.subscriptions.delete(sub.id)
    rec, _ = store.update(rec.id, partial(TxRecord.transition, status=Status.CONFIRMED))
    fresh = make(webhook_allow="loopback")  # another process: no memory of this record
    assert fresh.publisher.publish(rec) == 0
    assert not store.r.sismember(keys.OPEN, rec.id)  # terminal with no subscriber: closed
