"""The benchmark rewinds the direct loop's blocks on a node of its own, and only there:
anvil's cost per block grows with the chain, so the loop that ran second would pay for the
first one's blocks."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ops.bench import cli
from ops.bench.direct_run import DirectResult
from ops.bench.pipeline_run import PipelineResult
from ops.bench.target import Target

SENDER = "0x" + "11" * 20


class Node:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        self.calls.append(f"{method}{params or ''}")
        return "0x7" if method == "evm_snapshot" else True


def _run(monkeypatch: pytest.MonkeyPatch, own_node: bool) -> list[str]:
    calls: list[str] = []

    def direct(*_: Any) -> DirectResult:
        calls.append("direct")
        return DirectResult(txs=1, seconds=1.0, failed=0)

    monkeypatch.setattr(cli, "NodeClient", lambda url: Node(calls))
    monkeypatch.setattr(cli, "run_direct", direct)
    monkeypatch.setattr(cli, "warm_up", lambda *_: calls.append("warm-up"))
    monkeypatch.setattr(cli, "nonces", lambda *_: {SENDER: 1})
    monkeypatch.setattr(cli, "run_pipeline", lambda *_, **__: (
        calls.append("pipeline"), PipelineResult(txs=1))[1])
    monkeypatch.setattr(cli, "check_nonces", lambda *_: {"gaps": 0})
    monkeypatch.setattr(cli.report, "build", lambda *_: {})
    target = Target(api=SimpleNamespace(throttled=0), senders=[SENDER],  # type: ignore[arg-type]
                    node_url="http://node", signer_env={}, own_node=own_node)
    args = cli._parser().parse_args(["--txs", "1", "--senders", "1"])
    cli.run(args, target)
    return calls


def test_the_direct_loops_blocks_are_rewound_before_the_pipeline_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(monkeypatch, own_node=True) == [
        "evm_snapshot", "direct", "evm_revert['0x7']", "warm-up", "pipeline"]


def test_a_node_the_benchmark_did_not_start_is_never_rewound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(monkeypatch, own_node=False) == ["direct", "warm-up", "pipeline"]
