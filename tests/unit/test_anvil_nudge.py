"""AnvilNudge's decisions, against a scripted node (the real anvil: tests/integration)."""

from __future__ import annotations

from typing import Any

from ops.anvil_nudge import AnvilNudge


class ScriptedNode:
    """A node whose block number, ready count and automine flag the test sets; ``evm_mine``
    includes everything ready unless ``minable`` is False."""

    def __init__(self) -> None:
        self.block = 5
        self.ready = 0
        self.automine = True
        self.minable = True
        self.calls: list[str] = []
        self.nonces: dict[str, int] = {}  # chain nonce per sender
        self.waiting: dict[str, list[int]] = {}  # not-ready pool nonces per sender
        self.sent: list[str] = []

    def __call__(self, method: str, params: list[Any]) -> Any:
        self.calls.append(method)
        if method == "eth_blockNumber":
            return hex(self.block)
        if method == "txpool_status":
            queued = sum(len(n) for n in self.waiting.values())
            return {"pending": hex(self.ready), "queued": hex(queued)}
        if method == "txpool_inspect":
            return {"pending": {}, "queued": {a: {str(n): "summary" for n in nonces}
                                              for a, nonces in self.waiting.items() if nonces}}
        if method == "eth_getTransactionCount":
            return hex(self.nonces[params[0]])
        if method == "txpool_content":
            return {"pending": {}, "queued": {
                a.upper().replace("0X", "0x"): {str(n): {"nonce": hex(n), "hash": f"{a}-{n}"}
                                                for n in nonces}
                for a, nonces in self.waiting.items()}}
        if method == "eth_getRawTransactionByHash":
            return f"raw-{params[0]}"
        if method == "anvil_removePoolTransactions":
            self.waiting.pop(params[0], None)
            return None
        if method == "eth_sendRawTransaction":
            self.sent.append(params[0])
            return "0xhash"
        if method == "anvil_getAutomine":
            return self.automine
        if method == "evm_mine":
            self.block += 1
            self.mined = ["0xab"] * self.ready if self.minable else []
            if self.minable:
                self.ready = 0
            return "0x0"
        if method == "eth_getBlockByNumber":
            return {"transactions": self.mined}
        raise AssertionError(method)


def test_ready_transactions_waiting_a_whole_interval_get_a_block() -> None:
    node = ScriptedNode()
    nudge = AnvilNudge(node)
    node.ready = 3
    assert not nudge.look()  # first look: nothing to compare with
    assert nudge.look()  # same block, still 3 ready
    assert node.calls.count("evm_mine") == 1 and nudge.nudges == 1
    assert node.ready == 0 and node.block == 6
    assert not nudge.look()


def test_a_moving_chain_or_an_empty_pool_is_left_alone() -> None:
    node = ScriptedNode()
    nudge = AnvilNudge(node)
    for _ in range(3):
        assert not nudge.look()  # nothing ready
    node.ready = 4
    for _ in range(3):
        node.block += 1  # anvil mines by itself
        assert not nudge.look()
    assert "evm_mine" not in node.calls and nudge.nudges == 0


def test_a_node_that_is_not_automining_is_left_alone() -> None:
    node = ScriptedNode()
    node.automine = False
    node.ready = 2
    nudge = AnvilNudge(node)
    for _ in range(4):
        assert not nudge.look()
    assert "anvil_getAutomine" in node.calls and "evm_mine" not in node.calls


def test_unminable_transactions_get_one_empty_block_until_something_changes() -> None:
    node = ScriptedNode()
    node.ready = 2
    node.minable = False  # e.g. fees below the base fee
    nudge = AnvilNudge(node)
    nudge.look()
    assert nudge.look()  # one try, an empty block
    for _ in range(4):
        assert not nudge.look()
    assert node.calls.count("evm_mine") == 1
    node.ready = 3  # a new transaction: worth another try
    nudge.look()
    assert nudge.look()
    assert node.calls.count("evm_mine") == 2


def test_a_failed_look_is_skipped_and_the_comparison_restarts() -> None:
    node = ScriptedNode()
    node.ready = 1
    failures = iter([True, False, False, False])

    def flaky(method: str, params: list[Any]) -> Any:
        if method == "eth_blockNumber" and next(failures, False):
            raise OSError("connection refused")
        return node(method, params)

    nudge = AnvilNudge(flaky, interval=0.01)
    alive = iter([True, True, True, False])
    nudge.run(lambda: next(alive))  # looks: failed, first, stalled -> nudge; then stops
    assert nudge.nudges == 1


def test_a_stranded_sender_is_sent_again_in_nonce_order() -> None:
    node = ScriptedNode()
    node.nonces = {"0xaa": 7, "0xbb": 3}
    node.waiting = {"0xaa": [9, 7, 8], "0xbb": [5]}  # 0xbb: nonce 4 still on its way
    nudge = AnvilNudge(node)
    assert not nudge.look()  # once could be a race with mining: wait for a second look
    assert nudge.look() == 1
    assert node.sent == ["raw-0xaa-7", "raw-0xaa-8", "raw-0xaa-9"]
    assert "0xbb" in node.waiting and node.calls.count("anvil_removePoolTransactions") == 1
    assert nudge.nudges == 1


def test_a_sender_stranded_at_one_look_only_is_left_alone() -> None:
    node = ScriptedNode()
    node.nonces = {"0xaa": 7}
    node.waiting = {"0xaa": [7, 8]}
    nudge = AnvilNudge(node)
    nudge.look()
    node.waiting = {"0xaa": [9]}  # anvil sorted it out itself
    node.nonces = {"0xaa": 9}
    nudge.look()  # a new suspect (nonce 9), not the same one
    assert node.sent == [] and nudge.nudges == 0
