"""Signed webhooks end to end: a real receiver verifies every request with the reference
``standardwebhooks`` package, while the API, three worker processes, beat, Redis, anvil and
the vault emulator run. (The delivery code against Redis alone: ``test_webhook_outbox``.)"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from ops.devstack import DevStack
from tests.integration.stack_helpers import get_tx, post_tx, rpc, use_stack
from tests.integration.webhook_receiver import TX_SECRET, Receiver, running_receiver
from worker.celery_app import make_celery
from worker.domain.errors import ValidationError
from worker.queues import WEBHOOKS_QUEUE
from worker.services import Services
from worker.settings import Settings
from worker.webhooks import runtime
from worker.webhooks.dispatch import DELIVER_TASK
from worker.webhooks.ssrf import check_webhook_url

pytestmark = pytest.mark.integration
KINDS = ["transaction.submitted", "transaction.mined", "transaction.confirmed"]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as rec:
        yield rec


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
