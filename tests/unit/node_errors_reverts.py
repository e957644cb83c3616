"""Real node error messages of a transaction or call that ran and failed (reverts, failed
execution), each with the class it must get. Rows as in ``tests.unit.node_error_cases``."""

from __future__ import annotations

from tests.unit.node_error_values import ADDR_LC

REVERTS: list[tuple[str, str, int | None, str]] = [
    # ---------------------------------------------------------------- REVERTED
    ("go-ethereum no reason", "execution reverted", 3, "REVERTED"),
    ("go-ethereum custom error", "execution reverted", 3, "REVERTED"),
    ("go-ethereum Error(string)", "execution reverted: Dai/insufficient-balance", 3,
     "REVERTED"),
    ("go-ethereum panic", "execution reverted: assert(false)", 3, "REVERTED"),
    ("go-ethereum panic", "execution reverted: arithmetic underflow or overflow", 3,
     "REVERTED"),
    ("go-ethereum panic", "execution reverted: division or modulo by zero", 3, "REVERTED"),
    ("go-ethereum panic", "execution reverted: enum overflow", 3, "REVERTED"),
    ("go-ethereum panic", "execution reverted: invalid encoded storage byte array accessed", 3,
     "REVERTED"),
    ("go-ethereum panic", "execution reverted: out-of-bounds array access; popping on an empty "
     "array", 3, "REVERTED"),
    ("go-ethereum panic", "execution reverted: out-of-bounds access of an array or bytesN", 3,
     "REVERTED"),
    ("go-ethereum panic", "execution reverted: out of memory", 3, "REVERTED"),
    ("go-ethereum panic", "execution reverted: uninitialized function", 3, "REVERTED"),
    ("go-ethereum panic", "execution reverted: generic panic", 3, "REVERTED"),
    ("go-ethereum panic", "execution reverted: unknown panic code: 0x99", 3, "REVERTED"),
    ("op-geth (code lost)", "execution reverted: arithmetic underflow or overflow", None,
     "REVERTED"),
    ("erigon", "execution reverted", 3, "REVERTED"),
    ("erigon", "execution reverted: ERC20: transfer amount exceeds balance", 3, "REVERTED"),
    ("nethermind <=2023", "VM execution error.", -32015, "REVERTED"),
    ("nethermind 2025", "execution reverted", -32000, "REVERTED"),
    ("nethermind 2025-10", "execution reverted: Ownable: caller is not the owner", 3,
     "REVERTED"),
    ("nethermind 2025", "execution reverted: revert", 3, "REVERTED"),
    ("nethermind <2026-04", "execution reverted: 0x118cdaa7000000000000000000000000"
     f"{ADDR_LC[2:]}", 3, "REVERTED"),
    ("besu <2025-11", "Execution reverted", -32000, "REVERTED"),
    ("besu 2023-2025", "Execution reverted: ERC20: transfer amount exceeds balance", -32000,
     "REVERTED"),
    ("besu >=2025-01", "Execution reverted (ERC20: transfer from the zero address)", -32000,
     "REVERTED"),
    ("besu >=2025-11", "Execution reverted (ERC20: transfer from the zero address)", 3,
     "REVERTED"),
    ("besu", "Execution reverted (ABI decode error)", -32000, "REVERTED"),
    ("reth", "execution reverted", 3, "REVERTED"),
    ("reth", "execution reverted: Ownable: caller is not the owner", 3, "REVERTED"),
    ("anvil", "execution reverted", 3, "REVERTED"),
    ("anvil", "execution reverted: SafeERC20: low-level call failed", 3, "REVERTED"),
    ("anvil custom error", "execution reverted: custom error 0xe450d38c: 000000000000000000000000"
     f"{ADDR_LC[2:]}", 3, "REVERTED"),
    ("hardhat classic", "Error: VM Exception while processing transaction: reverted with "
     "reason string 'Not enough tokens'", -32603, "REVERTED"),
    ("hardhat classic", "Transaction reverted without a reason string", -32603, "REVERTED"),
    ("edr", "VM Exception while processing transaction: reverted with panic code 0x11 "
     "(Arithmetic operation overflowed outside of an unchecked block)", -32603, "REVERTED"),
    ("edr", "VM Exception while processing transaction: reverted with an unrecognized custom "
     "error (return data: 0xe450d38c)", -32000, "REVERTED"),
    ("edr", "VM Exception while processing transaction: invalid opcode", -32000, "REVERTED"),
    ("hardhat classic", "Error: Transaction reverted and Hardhat couldn't infer the reason. "
     "Please report this to help us improve Hardhat.", -32603, "REVERTED"),
    # Hardhat 3's bare "Internal error" says nothing about a revert; it stays a plain failure.
    ("hardhat 3 node", "Internal error", -32603, "OTHER"),
    ("ganache v7", "VM Exception while processing transaction: revert Ownable: caller is not "
     "the owner", -32000, "REVERTED"),
    ("ganache older", "VM Exception while processing transaction: revert", None, "REVERTED"),
    ("openethereum", "VM execution error.", -32015, "REVERTED"),
    ("metamask", "execution reverted: Dai/insufficient-balance", -32603, "REVERTED"),
    ("ethers v5 wrapper", "cannot estimate gas; transaction may fail or may require manual gas "
     "limit [ See: https://links.ethers.org/v5-errors-UNPREDICTABLE_GAS_LIMIT ] "
     "(reason=\"execution reverted: Ownable: caller is not the owner\", method=\"estimateGas\", "
     "code=UNPREDICTABLE_GAS_LIMIT, version=providers/5.7.2)", None, "REVERTED"),
    # ---------------------------------------------------------------- EXECUTION_FAILED
    ("go-ethereum >=1.9", "gas required exceeds allowance (30000000)", -32000,
     "EXECUTION_FAILED"),
    ("mantle", "gas required exceeds allowance (1125899906842624)", -32000, "EXECUTION_FAILED"),
    ("go-ethereum <=1.9.14", "gas required exceeds allowance (8000000) or always failing "
     "transaction", -32000, "EXECUTION_FAILED"),
    ("reth >=2025-02", "gas required exceeds allowance (30000000)", -32000, "EXECUTION_FAILED"),
    ("op-reth 2024", "out of gas: gas required exceeds allowance: 30000000", -32003,
     "EXECUTION_FAILED"),
    ("reth", "out of gas: gas required exceeds: 50000", -32003, "EXECUTION_FAILED"),
    ("reth", "out of gas: gas exhausted during memory expansion: 50000", -32003,
     "EXECUTION_FAILED"),
    ("anvil", "Out of gas: gas required exceeds allowance: 30000000", -32003,
     "EXECUTION_FAILED"),
    ("nethermind <=2025", "Cannot estimate gas, gas spent exceeded transaction and block gas "
     "limit", -32000, "EXECUTION_FAILED"),
    ("nethermind", "Cannot estimate gas, gas spent exceeded transaction and block gas limit or "
     "transaction gas limit cap", -32000, "EXECUTION_FAILED"),
    ("nethermind", "Gas estimation failed due to out of gas", -32000, "EXECUTION_FAILED"),
    ("nethermind", "Transaction execution fails", -32000, "EXECUTION_FAILED"),
    ("nethermind 2026", "gas required exceeds allowance (30000000)", -32000,
     "EXECUTION_FAILED"),
    ("besu", "Transaction processing could not be completed due to an exception (Invalid "
     "opcode: 0xfe)", -32000, "EXECUTION_FAILED"),
    ("hardhat classic", "Transaction ran out of gas", -32003, "EXECUTION_FAILED"),
    ("edr", "Transaction's internal call ran out of gas", -32000, "EXECUTION_FAILED"),
    ("ganache", "VM Exception while processing transaction: out of gas", -32000,
     "EXECUTION_FAILED"),
]
