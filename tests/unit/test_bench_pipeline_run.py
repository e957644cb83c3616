"""The benchmark's pipeline run, against a scripted API: when the CPU reading is taken."""

from __future__ import annotations

import time
from typing import Any

from ops.bench.client import Submitted
from ops.bench.pipeline_run import TRANSFER_GAS, run_pipeline

SENDER = "0x" + "11" * 20


class ScriptedApi:
    """Accepts every POST; every record is confirmed once the run has asked whether any
    sender still has work (the first listing)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.count = 0

    def submit(self, body: dict[str, Any]) -> Submitted:
        self.count += 1
        return Submitted(f"tx{self.count}", body["from"], time.time(), 1.0)

    def newest(self, sender: str, status: str, limit: int = 1) -> list[dict[str, Any]]:
        self.calls.append("list")
        return []

    def get(self, tx_id: str) -> dict[str, Any]:
        self.calls.append("get")
        at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return {"id": tx_id, "status": "confirmed",
                "history": [{"status": "confirmed", "at": at}]}


def test_the_cpu_reading_is_taken_before_the_records_are_read_back() -> None:
    api = ScriptedApi()
    result = run_pipeline(api, [SENDER], 5, SENDER, clients=2, timeout=5.0,  # type: ignore[arg-type]
                          on_finished=lambda: api.calls.append("finished"))
    assert result.failed == 0
    assert api.calls.count("finished") == 1
    finished = api.calls.index("finished")
    assert "list" in api.calls[:finished]  # after waiting for the work to end
    assert api.calls[finished + 1:] == ["get"] * 5  # before reading the records back


def test_the_pipeline_sends_the_transfer_the_direct_loop_signs() -> None:
    """Both loops give the gas limit: neither pays for a node estimate the other skips."""
    bodies: list[dict[str, Any]] = []
    api = ScriptedApi()
    submit = api.submit

    def record(body: dict[str, Any]) -> Submitted:
        bodies.append(body)
        return submit(body)

    api.submit = record  # type: ignore[method-assign]
    run_pipeline(api, [SENDER], 3, SENDER, clients=1, timeout=5.0)  # type: ignore[arg-type]
    assert len(bodies) == 3
    assert {body["gas"] for body in bodies} == {TRANSFER_GAS} == {21000}
