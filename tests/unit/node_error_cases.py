"""Real node error messages and the class each must get.

One row per message of the node-error reference (every section, every client), with the
variable parts filled in with realistic values; some messages appear in several variants.
Rows are ``(client, message, json_rpc_code, expected_class)``; the code is the one the client
sends (``None`` where it is not known or does not matter). Expected classes are plain strings
so this file stays pure data.
"""

from __future__ import annotations

ADDR = "0x71C7656EC7ab88b098defB751B7401B5f6d8976F"
ADDR_LC = ADDR.lower()
HASH = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
ALCHEMY_CU = (
    "Your app has exceeded its compute units per second capacity. If you have retries "
    "enabled, you can safely ignore this message. If not, check out "
)

CASES: list[tuple[str, str, int | None, str]] = [
    # ---------------------------------------------------------------- ALREADY_KNOWN
    ("go-ethereum", "already known", -32000, "ALREADY_KNOWN"),
    ("bor via alchemy", "already known", -32000, "ALREADY_KNOWN"),
    ("go-ethereum <1.9.11", f"known transaction: {HASH[2:]}", -32000, "ALREADY_KNOWN"),
    ("go-ethereum <1.9.11", "known transaction: 0x7f657507aee0511e36d2d1972a6b22e917cc89"
     "f92b0df17ae1c4bcb0c4c1d7f8", -32000, "ALREADY_KNOWN"),
    ("go-ethereum 2015", "Known transaction (5c504ed4)", -32603, "ALREADY_KNOWN"),
    ("erigon", "ALREADY_EXISTS: already known", -32000, "ALREADY_KNOWN"),
    ("nethermind 1.x", "AlreadyKnown", -32010, "ALREADY_KNOWN"),
    ("nethermind 1.x", "OwnNonceAlreadyUsed", -32010, "ALREADY_KNOWN"),
    ("nethermind 2026", "already known", -32000, "ALREADY_KNOWN"),
    ("besu", "Known transaction", -32000, "ALREADY_KNOWN"),
    ("reth", "already known", -32000, "ALREADY_KNOWN"),
    ("anvil", "transaction already imported", -32003, "ALREADY_KNOWN"),
    ("hardhat classic", f"Known transaction: {HASH}", -32000, "ALREADY_KNOWN"),
    ("edr", f"Known transaction: {HASH}", -32000, "ALREADY_KNOWN"),
    ("openethereum", "Transaction with the same hash was already imported.", -32010,
     "ALREADY_KNOWN"),
    # ---------------------------------------------------------------- NONCE_TOO_LOW
    ("go-ethereum >=1.12.1", "nonce too low: next nonce 5, tx nonce 3", -32000, "NONCE_TOO_LOW"),
    ("go-ethereum <=1.12.0", "nonce too low", -32000, "NONCE_TOO_LOW"),
    ("go-ethereum eth_call",
     f"err: nonce too low: address {ADDR}, tx: 3 state: 5 (supplied gas 50000000)", -32000,
     "NONCE_TOO_LOW"),
    ("go-ethereum eth_estimateGas",
     f"failed with 50000000 gas: nonce too low: address {ADDR}, tx: 3 state: 5", -32000,
     "NONCE_TOO_LOW"),
    ("go-ethereum eth_simulateV1", f"nonce too low: address {ADDR}, tx: 3 state: 5", -38010,
     "NONCE_TOO_LOW"),
    ("erigon pool", "INTERNAL_ERROR: nonce too low", -32000, "NONCE_TOO_LOW"),
    ("erigon eth_call", f"nonce too low: address {ADDR_LC}, tx: 0 state: 12", -32000,
     "NONCE_TOO_LOW"),
    ("erigon trace", f"tracing failed: nonce too low: address {ADDR_LC}, tx: 0 state: 12",
     -32000, "NONCE_TOO_LOW"),
    ("nethermind 1.x", "OldNonce", -32010, "NONCE_TOO_LOW"),
    ("nethermind 1.x", "OldNonce, Current nonce: 34, nonce of rejected tx: 2", -32010,
     "NONCE_TOO_LOW"),
    ("nethermind 2026", "nonce too low", -32000, "NONCE_TOO_LOW"),
    ("nethermind eth_call <=2025", "wrong transaction nonce", -32000, "NONCE_TOO_LOW"),
    ("besu", "Nonce too low", -32001, "NONCE_TOO_LOW"),
    ("besu eth_call",
     f"Nonce too low (transaction nonce 2 below sender account nonce 34 for sender {ADDR})",
     -32001, "NONCE_TOO_LOW"),
    ("reth", "nonce too low: next nonce 12, tx nonce 11", -32000, "NONCE_TOO_LOW"),
    ("anvil", "nonce too low", -32003, "NONCE_TOO_LOW"),
    ("edr mempool", "Transaction nonce too low. Expected nonce to be at least 7 but got 6.",
     -32000, "NONCE_TOO_LOW"),
    ("hardhat classic mempool", "Nonce too low. Expected nonce to be at least 7 but got 6.",
     -32000, "NONCE_TOO_LOW"),
    ("edr automine", "Nonce too low. Expected nonce to be 7 but got 6. Note that transactions "
     "can't be queued when automining.", -32000, "NONCE_TOO_LOW"),
    ("hardhat classic automine", "Nonce too low. Expected nonce to be 7 but got 6.", -32000,
     "NONCE_TOO_LOW"),
    ("ganache v7", "the tx doesn't have the correct nonce. account has nonce of: 7 tx has "
     "nonce of: 6", -32000, "NONCE_TOO_LOW"),
    ("openethereum", "Transaction nonce is too low. Try incrementing the nonce.", -32010,
     "NONCE_TOO_LOW"),
    ("arbitrum nitro", f"nonce too low: address {ADDR}, tx: 8089 state: 8090", -32000,
     "NONCE_TOO_LOW"),
    ("arbitrum classic", "invalid transaction nonce", None, "NONCE_TOO_LOW"),
    ("arbitrum classic", "transaction rejected: nonce too low", None, "NONCE_TOO_LOW"),
    ("viem table", "transaction is outdated", None, "NONCE_TOO_LOW"),
    ("chainlink logging", "call failed: nonce too low", None, "NONCE_TOO_LOW"),
    # ---------------------------------------------------------------- NONCE_TOO_HIGH
    ("go-ethereum blob pool", "nonce too high: tx nonce 9, gapped nonce 7", -32000,
     "NONCE_TOO_HIGH"),
    ("go-ethereum 7702", "gapped-nonce tx from delegated accounts", -32000, "NONCE_TOO_HIGH"),
    ("go-ethereum eth_call",
     f"err: nonce too high: address {ADDR}, tx: 9 state: 7 (supplied gas 50000000)", -32000,
     "NONCE_TOO_HIGH"),
    ("erigon eth_call", f"nonce too high: address {ADDR_LC}, tx: 9 state: 7", -32000,
     "NONCE_TOO_HIGH"),
    ("nethermind 1.x", "NonceGap", -32010, "NONCE_TOO_HIGH"),
    ("nethermind 1.x", "NonceGap, Future nonce. Expected nonce: 7", -32010, "NONCE_TOO_HIGH"),
    ("nethermind 1.x", "NonceTooFarInFuture", -32010, "NONCE_TOO_HIGH"),
    ("nethermind 2026", "nonce too high", -32000, "NONCE_TOO_HIGH"),
    ("nethermind 2026", "nonce too far in future", -32000, "NONCE_TOO_HIGH"),
    ("besu eth_call", "Nonce too high", -32006, "NONCE_TOO_HIGH"),
    ("besu detail", f"Nonce too high (transaction nonce 9 does not match sender account nonce "
     f"7 for sender {ADDR})", -32006, "NONCE_TOO_HIGH"),
    ("besu pool", "Transaction nonce is too distant from current sender nonce", -32000,
     "NONCE_TOO_HIGH"),
    ("reth", "nonce too high", -32000, "NONCE_TOO_HIGH"),
    ("reth 7702", "gapped-nonce tx from delegated accounts", -32000, "NONCE_TOO_HIGH"),
    ("anvil eth_call", "Nonce too high", -32003, "NONCE_TOO_HIGH"),
    ("edr automine", "Nonce too high. Expected nonce to be 7 but got 9. Note that transactions "
     "can't be queued when automining.", -32000, "NONCE_TOO_HIGH"),
    ("hardhat classic automine", "Nonce too high. Expected nonce to be 7 but got 9.", -32000,
     "NONCE_TOO_HIGH"),
    ("arbitrum nitro", f"nonce too high: address {ADDR}, tx: 8091 state: 8090", -32000,
     "NONCE_TOO_HIGH"),
    # ---------------------------------------------------------------- UNDERPRICED_REPLACEMENT
    ("go-ethereum", "replacement transaction underpriced", -32000, "UNDERPRICED_REPLACEMENT"),
    ("op-geth", "replacement transaction underpriced", -32000, "UNDERPRICED_REPLACEMENT"),
    ("go-ethereum blob pool", "replacement transaction underpriced: new tx gas fee cap "
     "30000000000 <= 30000000000 queued", -32000, "UNDERPRICED_REPLACEMENT"),
    ("go-ethereum blob pool", "replacement transaction underpriced: new tx blob gas fee cap 3 "
     "<= 3 queued", -32000, "UNDERPRICED_REPLACEMENT"),
    ("go-ethereum blob pool", "replacement transaction underpriced: new tx gas fee cap "
     "31000000000 < 30000000000 queued + 100% replacement penalty", -32000,
     "UNDERPRICED_REPLACEMENT"),
    ("erigon", "INTERNAL_ERROR: could not replace existing tx", -32000,
     "UNDERPRICED_REPLACEMENT"),
    ("erigon", "FEE_TOO_LOW: replacement transaction underpriced", -32000,
     "UNDERPRICED_REPLACEMENT"),
    ("nethermind 1.x", "ReplacementNotAllowed", -32010, "UNDERPRICED_REPLACEMENT"),
    ("nethermind 2026", "replacement transaction underpriced", -32000,
     "UNDERPRICED_REPLACEMENT"),
    ("besu", "Replacement transaction underpriced", -32000, "UNDERPRICED_REPLACEMENT"),
    ("reth", "replacement transaction underpriced", -32000, "UNDERPRICED_REPLACEMENT"),
    ("anvil", "replacement transaction underpriced", -32003, "UNDERPRICED_REPLACEMENT"),
    ("edr", "Replacement transaction underpriced. A gasPrice/maxFeePerGas of at least "
     "27500000000 is necessary to replace the existing transaction with nonce 7.", -32000,
     "UNDERPRICED_REPLACEMENT"),
    ("hardhat classic", "Replacement transaction underpriced. A gasPrice/maxPriorityFeePerGas "
     "of at least 1650000000 is necessary to replace the existing transaction with nonce 7.",
     -32000, "UNDERPRICED_REPLACEMENT"),
    # Ganache's replacement text is the bare geth text; bump_fee is the shared safe reading.
    ("ganache v7", "transaction underpriced", -32003, "UNDERPRICED"),
    ("openethereum", "Transaction gas price 20000000000wei is too low. There is another "
     "transaction with same nonce in the queue with gas price: 25000000000wei. Try increasing "
     "the gas price or incrementing the nonce.", -32010, "UNDERPRICED_REPLACEMENT"),
    # ---------------------------------------------------------------- UNDERPRICED
    ("go-ethereum >=1.15.9", "transaction gas price below minimum: gas tip cap 1000000, "
     "minimum needed 1000000000", -32000, "UNDERPRICED"),
    ("go-ethereum 1.13.14-1.15.8", "transaction underpriced: gas tip cap 1000000, minimum "
     "needed 1000000000", -32000, "UNDERPRICED"),
    ("go-ethereum 1.12.1-1.13.13", "transaction underpriced: tip needed 1000000000, tip "
     "permitted 1000000", -32000, "UNDERPRICED"),
    ("go-ethereum", "transaction underpriced", -32000, "UNDERPRICED"),
    ("infura", "transaction underpriced", -32000, "UNDERPRICED"),
    ("polygon bor", "transaction gas price below minimum: gas tip cap 25000000000 wei, minimum "
     "needed 30000000000 wei", -32000, "UNDERPRICED"),
    ("erigon", "FEE_TOO_LOW: underpriced", -32000, "UNDERPRICED"),
    ("erigon", "FEE_TOO_LOW: fee too low", -32000, "UNDERPRICED"),
    ("nethermind 1.x", "FeeTooLow", -32010, "UNDERPRICED"),
    ("nethermind 1.x", "FeeTooLow, EffectivePriorityFeePerGas too low 0 < 1, BaseFee: 7",
     -32010, "UNDERPRICED"),
    ("nethermind 1.x", "FeeTooLow, FeePerGas needs to be higher than 1500000007 to be added to "
     "the TxPool. Affordable FeePerGas of rejected tx: 1000000007.", -32010, "POOL_FULL"),
    ("nethermind 1.x", "FeeTooLow, FeePerGas needs to be higher than 1500000007 to be added to "
     "the TxPool. FeePerGas of rejected tx: 1000000007.", -32010, "POOL_FULL"),
    ("nethermind 1.x", "FeeTooLowToCompete", -32010, "POOL_FULL"),
    ("nethermind <=1.11", "Filtered", -32010, "UNDERPRICED"),
    ("nethermind 2026", "transaction underpriced", -32000, "UNDERPRICED"),
    ("besu", "Gas price below configured minimum gas price", -32009, "UNDERPRICED"),
    ("reth", "transaction underpriced", -32000, "UNDERPRICED"),
    ("reth", "transaction priority fee below minimum required priority fee 1000000000",
     -32003, "UNDERPRICED"),
    ("edr automine", "Transaction gas price is 1000000, which is below the minimum of "
     "875000000", -32000, "UNDERPRICED"),
    ("openethereum", "Transaction gas price is too low. It does not satisfy your node's minimal "
     "gas price (minimal: 1000000000, got: 100). Try increasing the gas price.", -32010,
     "UNDERPRICED"),
    ("arbitrum classic", "gas price too low", None, "UNDERPRICED"),
    # ---------------------------------------------------------------- FEE_BELOW_BASE_FEE
    ("go-ethereum >=1.13.5", f"err: max fee per gas less than block base fee: address {ADDR}, "
     "maxFeePerGas: 1000000000, baseFee: 1500000000 (supplied gas 50000000)", -32000,
     "FEE_BELOW_BASE_FEE"),
    ("go-ethereum <1.13.5", f"err: max fee per gas less than block base fee: address {ADDR}, "
     "maxFeePerGas: 1000000000 baseFee: 1500000000 (supplied gas 50000000)", -32000,
     "FEE_BELOW_BASE_FEE"),
    ("go-ethereum blob", "max fee per blob gas less than block blob gas fee", -32000,
     "FEE_BELOW_BASE_FEE"),
    ("go-ethereum blob", f"max fee per blob gas less than block blob gas fee: address {ADDR} "
     "blobGasFeeCap: 1, blobBaseFee: 3", -32000, "FEE_BELOW_BASE_FEE"),
    ("erigon eth_call", f"fee cap less than block base fee: address {ADDR_LC}, feeCap: "
     "1000000000 baseFee: 1500000000", -32000, "FEE_BELOW_BASE_FEE"),
    ("nethermind 1.x", "FeeTooLow, MaxFeePerGas too low. MaxFeePerGas: 1000000000, BaseFee: "
     "1500000000, MaxPriorityFeePerGas:1000000, Block number: 19000000", -32010,
     "FEE_BELOW_BASE_FEE"),
    ("nethermind eth_call", "miner premium is negative", -32000, "FEE_BELOW_BASE_FEE"),
    ("besu", "Gas price below current base fee", -32009, "FEE_BELOW_BASE_FEE"),
    ("besu detail", "gasPrice is less than the current BaseFee", -32009, "FEE_BELOW_BASE_FEE"),
    ("besu blob", "blob gas price below current blob base fee", -32009, "FEE_BELOW_BASE_FEE"),
    ("besu blob fixture", "blob gas price below current blob base fee (tx max fee per blob gas "
     f"less than block blob gas fee: address {ADDR} blobGasFeeCap: 0 wei, blobBaseFee: 1 wei)",
     -32009, "FEE_BELOW_BASE_FEE"),
    ("reth", "max fee per gas less than block base fee", -32000, "FEE_BELOW_BASE_FEE"),
    ("anvil", "max fee per gas less than block base fee", -32003, "FEE_BELOW_BASE_FEE"),
    ("edr automine", "Transaction maxFeePerGas (1000000000) is too low for the next block, "
     "which has a baseFeePerGas of 1875000000", -32000, "FEE_BELOW_BASE_FEE"),
    ("hardhat classic automine", "Transaction gasPrice (1000000000) is too low for the next "
     "block, which has a baseFeePerGas of 1875000000", -32000, "FEE_BELOW_BASE_FEE"),
    ("arbitrum nitro pre-checker", f"max fee per gas less than block base fee: address {ADDR}, "
     "maxFeePerGas: 10000000 baseFee: 100000000", -32000, "FEE_BELOW_BASE_FEE"),
    ("arbitrum nitro sequencer", "max fee per gas less than block base fee: maxFeePerGas: "
     "10000000 baseFee: 100000000", -32000, "FEE_BELOW_BASE_FEE"),
    ("viem table", "fee cap less than block base fee", None, "FEE_BELOW_BASE_FEE"),
    # ---------------------------------------------------------------- INSUFFICIENT_FUNDS
    ("go-ethereum >=1.12.1", "insufficient funds for gas * price + value: balance 1000, tx cost "
     "21000000000000, overshot 20999999999000", -32000, "INSUFFICIENT_FUNDS"),
    ("go-ethereum queued", "insufficient funds for gas * price + value: balance 1000, queued "
     "cost 500, tx cost 21000, overshot 20500", -32000, "INSUFFICIENT_FUNDS"),
    ("go-ethereum queued", "insufficient funds for gas * price + value: balance 1000, queued "
     "cost 500, tx bumped 600, overshot 100", -32000, "INSUFFICIENT_FUNDS"),
    ("go-ethereum older / infura", "insufficient funds for gas * price + value", -32000,
     "INSUFFICIENT_FUNDS"),
    ("go-ethereum eth_call", f"err: insufficient funds for gas * price + value: address {ADDR} "
     "have 1000 want 21000000000000 (supplied gas 50000000)", -32000, "INSUFFICIENT_FUNDS"),
    ("go-ethereum eth_estimateGas", "insufficient funds for transfer", -32000,
     "INSUFFICIENT_FUNDS"),
    ("go-ethereum eth_call", f"insufficient funds for transfer: address {ADDR}", -32000,
     "INSUFFICIENT_FUNDS"),
    ("go-ethereum 2016", "Insufficient funds for gas * price + value", -32000,
     "INSUFFICIENT_FUNDS"),
    ("optimism l2geth", "invalid transaction: insufficient funds for gas * price + value",
     -32000, "INSUFFICIENT_FUNDS"),
    ("erigon pool", "INTERNAL_ERROR: insufficient funds", -32000, "INSUFFICIENT_FUNDS"),
    ("erigon eth_call", f"insufficient funds for gas * price + value: address {ADDR_LC} have 0 "
     "want 2100000000000000", -32000, "INSUFFICIENT_FUNDS"),
    ("nethermind 1.x", "InsufficientFunds", -32010, "INSUFFICIENT_FUNDS"),
    ("nethermind 1.x", "InsufficientFunds, Account balance: 1000, cumulative cost: "
     "21000000000000", -32010, "INSUFFICIENT_FUNDS"),
    ("nethermind 1.x", "InsufficientFunds, Balance is 1000 less than sending value + gas "
     "21000000000000", -32010, "INSUFFICIENT_FUNDS"),
    ("nethermind 2026", "insufficient funds for gas * price + value", -32000,
     "INSUFFICIENT_FUNDS"),
    ("nethermind eth_call", "insufficient sender balance", -32000, "INSUFFICIENT_FUNDS"),
    ("nethermind eth_call", "insufficient MaxFeePerGas for sender balance", -32000,
     "INSUFFICIENT_FUNDS"),
    ("besu", "Upfront cost exceeds account balance", -32004, "INSUFFICIENT_FUNDS"),
    ("besu eth_call", "Upfront cost exceeds account balance (transaction up-front cost "
     f"0x1319718a5000 exceeds transaction sender account balance 0x0 for sender {ADDR})",
     -32004, "INSUFFICIENT_FUNDS"),
    ("reth", "insufficient funds for gas * price + value: have 1000 want 21000000000000",
     -32003, "INSUFFICIENT_FUNDS"),
    ("reth", "insufficient funds for transfer", -32003, "INSUFFICIENT_FUNDS"),
    ("anvil", "Insufficient funds for gas * price + value", -32003, "INSUFFICIENT_FUNDS"),
    ("anvil", "insufficient funds for transfer", -32003, "INSUFFICIENT_FUNDS"),
    ("edr", "Sender doesn't have enough funds to send tx. The max upfront cost is: "
     "21000000000000 and the sender's balance is: 1000.", -32000, "INSUFFICIENT_FUNDS"),
    ("hardhat classic", "sender doesn't have enough funds to send tx. The max upfront cost is: "
     "21000000000000 and the sender's account only has: 1000", -32000, "INSUFFICIENT_FUNDS"),
    ("ganache v7", "insufficient funds for gas * price + value", -32003, "INSUFFICIENT_FUNDS"),
    ("ganache <=v6", "sender doesn't have enough funds to send tx. The upfront cost is: "
     "21000000000000 and the sender's account only has: 1000", None, "INSUFFICIENT_FUNDS"),
    ("openethereum", "Insufficient funds. The account you tried to send transaction from does "
     "not have enough funds. Required 21000000000000 and got: 1000.", -32010,
     "INSUFFICIENT_FUNDS"),
    ("openethereum", "Insufficient balance for transaction. Balance=1000, Cost=21000000000000",
     None, "INSUFFICIENT_FUNDS"),
    ("arbitrum nitro", f"insufficient funds for gas * price + value: address {ADDR} have 1000 "
     "want 21000000000000", -32000, "INSUFFICIENT_FUNDS"),
    ("arbitrum classic", "not enough funds for gas", None, "INSUFFICIENT_FUNDS"),
    ("arbitrum classic", "transaction rejected: insufficient funds for gas * price + value",
     None, "INSUFFICIENT_FUNDS"),
    ("op-geth (base)", "insufficient funds for gas * price + value: balance 0, tx cost "
     "4200000000000, overshot 4200000000000", -32000, "INSUFFICIENT_FUNDS"),
    ("op-reth", "insufficient funds for gas * price + value: have 0 want 4200000000000", -32003,
     "INSUFFICIENT_FUNDS"),
    ("viem table", "exceeds transaction sender account balance", None, "INSUFFICIENT_FUNDS"),
    # ---------------------------------------------------------------- INTRINSIC_GAS
    ("go-ethereum >=1.13.14", "intrinsic gas too low: gas 20000, minimum needed 21000", -32000,
     "INTRINSIC_GAS"),
    ("go-ethereum 1.12.1-1.13.13", "intrinsic gas too low: needed 21000, allowed 20000",
     -32000, "INTRINSIC_GAS"),
    ("go-ethereum older", "intrinsic gas too low", -32000, "INTRINSIC_GAS"),
    ("go-ethereum eth_call", "err: intrinsic gas too low: have 20000, want 21000 (supplied gas "
     "20000)", -32000, "INTRINSIC_GAS"),
    ("go-ethereum prague", "insufficient gas for floor data gas cost: gas 21000, minimum "
     "needed 21160", -32000, "INTRINSIC_GAS"),
    ("erigon pool", "INTERNAL_ERROR: IntrinsicGas", -32000, "INTRINSIC_GAS"),
    ("erigon eth_call", "intrinsic gas too low: have 20000, want 21000", -32000,
     "INTRINSIC_GAS"),
    ("nethermind eth_estimateGas", "gas limit below intrinsic gas", -32000, "INTRINSIC_GAS"),
    ("nethermind 2026", "intrinsic gas too low: have 20000, want 21000", -32000,
     "INTRINSIC_GAS"),
    # Nethermind's bare "Invalid" also means wrong chain id; see the classifier's comment.
    ("nethermind 1.x", "Invalid", -32010, "INVALID_SIGNATURE_OR_CHAIN"),
    ("besu", "Intrinsic gas exceeds gas limit", -32003, "INTRINSIC_GAS"),
    ("besu eth_call", "Intrinsic gas exceeds gas limit (intrinsic gas cost 21000 exceeds gas "
     "limit 20000)", -32003, "INTRINSIC_GAS"),
    ("reth", "intrinsic gas too low", -32000, "INTRINSIC_GAS"),
    ("anvil", "intrinsic gas too low", -32000, "INTRINSIC_GAS"),
    ("anvil", "intrinsic gas too high -- CallGasCostMoreThanGasLimit", -32000, "INTRINSIC_GAS"),
    ("anvil", "intrinsic gas too high -- GasFloorMoreThanGasLimit", -32000, "INTRINSIC_GAS"),
    ("edr", "Transaction requires at least 21000 gas but got 20000", -32000, "INTRINSIC_GAS"),
    ("edr", "Transaction requires gas floor of 21160 but got limit of 21000", -32000,
     "INTRINSIC_GAS"),
    ("ganache v7", "intrinsic gas too low", -32000, "INTRINSIC_GAS"),
    ("openethereum", "Transaction gas is too low. There is not enough gas to cover minimal cost "
     "of the transaction (minimal: 21000, got: 20000). Try increasing supplied gas.", -32010,
     "INTRINSIC_GAS"),
    ("arbitrum nitro", "intrinsic gas too low", -32000, "INTRINSIC_GAS"),
    # ---------------------------------------------------------------- GAS_LIMIT_EXCEEDED
    ("go-ethereum", "exceeds block gas limit", -32000, "GAS_LIMIT_EXCEEDED"),
    ("go-ethereum osaka", "transaction gas limit too high (cap: 16777216, tx: 30000000)",
     -32000, "GAS_LIMIT_EXCEEDED"),
    ("erigon pool", "INTERNAL_ERROR: gas limit is too high", -32000, "GAS_LIMIT_EXCEEDED"),
    ("erigon eth_call", f"gas limit too high: address {ADDR_LC}, gas limit 30000001", -32000,
     "GAS_LIMIT_EXCEEDED"),
    ("nethermind 1.x", "GasLimitExceeded", -32010, "GAS_LIMIT_EXCEEDED"),
    ("nethermind 1.x", "GasLimitExceeded, Gas limit: 30000000, gas limit of rejected tx: "
     "30000001", -32010, "GAS_LIMIT_EXCEEDED"),
    ("nethermind 2026", "gas limit reached", -32000, "GAS_LIMIT_EXCEEDED"),
    ("nethermind eip-7825", "TxGasLimitCapExceeded: Gas limit 30000000 exceeded cap of "
     "16777216.", None, "GAS_LIMIT_EXCEEDED"),
    ("nethermind eth_call", "Block gas limit exceeded", -32000, "GAS_LIMIT_EXCEEDED"),
    ("besu", "Transaction gas limit exceeds block gas limit", -32005, "GAS_LIMIT_EXCEEDED"),
    ("besu", "Transaction gas limit cap exceeded", -32005, "GAS_LIMIT_EXCEEDED"),
    ("reth", "exceeds block gas limit", -32000, "GAS_LIMIT_EXCEEDED"),
    ("reth", "exceeds max transaction gas limit", -32000, "GAS_LIMIT_EXCEEDED"),
    ("reth eth_call", "intrinsic gas too high", -32000, "GAS_LIMIT_EXCEEDED"),
    ("reth eth_call", "gas limit too high", -32000, "GAS_LIMIT_EXCEEDED"),
    ("anvil", "intrinsic gas too high -- tx.gas_limit > env.block.gas_limit", -32000,
     "GAS_LIMIT_EXCEEDED"),
    ("anvil", "intrinsic gas too high -- tx.gas_limit > resolved tx gas limit cap", -32000,
     "GAS_LIMIT_EXCEEDED"),
    ("anvil", "intrinsic gas too high -- CallerGasLimitMoreThanBlock", -32000,
     "GAS_LIMIT_EXCEEDED"),
    ("anvil", "Transaction gas limit is greater than the block gas limit, gas_limit: 30000001, "
     "cap: 30000000", -32003, "GAS_LIMIT_EXCEEDED"),
    ("anvil fork mode", "EVM error CallerGasLimitMoreThenBlock", -32603, "GAS_LIMIT_EXCEEDED"),
    ("edr", "Transaction gas limit is 30000001 and exceeds block gas limit of 30000000", -32000,
     "GAS_LIMIT_EXCEEDED"),
    ("hardhat classic", "Transaction gas limit is 30000001 and exceeds block gas limit of "
     "30000000", -32000, "GAS_LIMIT_EXCEEDED"),
    ("edr", "Transaction gas limit is 16777217 and exceeds transaction gas cap of 16777216",
     -32000, "GAS_LIMIT_EXCEEDED"),
    ("ganache v7", "exceeds block gas limit", -32000, "GAS_LIMIT_EXCEEDED"),
    ("openethereum", "Transaction cost exceeds current gas limit. Limit: 30000000, got: "
     "30000001. Try decreasing supplied gas.", -32010, "GAS_LIMIT_EXCEEDED"),
    ("openethereum", "Supplied gas is beyond limit.", -32010, "GAS_LIMIT_EXCEEDED"),
    # ---------------------------------------------------------------- POOL_FULL
    ("go-ethereum", "txpool is full", -32000, "POOL_FULL"),
    ("go-ethereum >=1.11.4", "future transaction tries to replace pending", -32000, "POOL_FULL"),
    # The pool-full "transaction underpriced" cannot be told from the below-minimum one.
    ("go-ethereum pool full", "transaction underpriced", -32000, "UNDERPRICED"),
    ("go-ethereum blob pool", "account limit exceeded: pooled 16 txs", -32000, "POOL_FULL"),
    ("go-ethereum 7702", "in-flight transaction limit reached for delegated accounts", -32000,
     "POOL_FULL"),
    ("go-ethereum 7702", "authority already reserved", -32000, "POOL_FULL"),
    ("reth 7702", "in-flight transaction limit reached for delegated accounts", -32000,
     "POOL_FULL"),
    ("go-ethereum", "address already reserved", -32000, "POOL_FULL"),
    ("reth", "address already reserved", -32000, "POOL_FULL"),
    ("erigon", "INTERNAL_ERROR: pending sub-pool is full", -32000, "POOL_FULL"),
    ("erigon", "INTERNAL_ERROR: baseFee sub-pool is full", -32000, "POOL_FULL"),
    ("erigon", "INTERNAL_ERROR: queued sub-pool is full", -32000, "POOL_FULL"),
    ("erigon", "INTERNAL_ERROR: blobs limit in txpool is full", -32000, "POOL_FULL"),
    ("erigon", "INTERNAL_ERROR: spammer", -32000, "POOL_FULL"),
    ("reth", "txpool is full", -32003, "POOL_FULL"),
    ("openethereum", "There are too many transactions in the queue. Your transaction was "
     "dropped due to limit. Try increasing the fee.", -32010, "POOL_FULL"),
    ("arbitrum classic", "queue full", None, "POOL_FULL"),
    ("arbitrum classic", "sequencer pending tx pool full, please try again", None, "POOL_FULL"),
    # ---------------------------------------------------------------- INVALID_SIGNATURE_OR_CHAIN
    ("go-ethereum >=1.15", "invalid sender: invalid chain id for signer: have 5 want 1", -32000,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("go-ethereum >=1.15", "invalid sender: invalid transaction v, r, s values", -32000,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("go-ethereum <1.15", "invalid sender", -32000, "INVALID_SIGNATURE_OR_CHAIN"),
    ("go-ethereum", "only replay-protected (EIP-155) transactions allowed over RPC", -32000,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("erigon", "invalid chain id, expected: 1 got: 5", -32000, "INVALID_SIGNATURE_OR_CHAIN"),
    ("erigon", "INVALID: invalid sender", -32000, "INVALID_SIGNATURE_OR_CHAIN"),
    ("nethermind 1.x", "FailedToResolveSender", -32010, "INVALID_SIGNATURE_OR_CHAIN"),
    ("nethermind 1.x", "Invalid, transaction Hash is null", -32010,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("nethermind validator", "InvalidTxChainId: Expected 1, got 5.", None,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("nethermind validator", "Invalid, InvalidTxChainId: Expected 1, got 5.", -32010,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("nethermind validator", "InvalidTxSignature: Signature is invalid.", None,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("nethermind 2026", "failed to recover sender", -32000, "INVALID_SIGNATURE_OR_CHAIN"),
    ("nethermind 2026", "transaction invalid", -32000, "INVALID_SIGNATURE_OR_CHAIN"),
    ("besu", "Invalid signature", -32002, "INVALID_SIGNATURE_OR_CHAIN"),
    ("besu", "Wrong chainId", -32000, "INVALID_SIGNATURE_OR_CHAIN"),
    ("besu detail", "transaction was meant for chain id 5 and not this chain id 1", -32000,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("besu", "ChainId not supported", -32000, "INVALID_SIGNATURE_OR_CHAIN"),
    ("besu", "ChainId is required", -32000, "INVALID_SIGNATURE_OR_CHAIN"),
    ("reth", "invalid sender", -32000, "INVALID_SIGNATURE_OR_CHAIN"),
    ("reth", "invalid chain ID", -32000, "INVALID_SIGNATURE_OR_CHAIN"),
    ("reth", "transactions before Spurious Dragon should not have a chain ID", -32003,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("reth decode", "invalid transaction signature", -32602, "INVALID_SIGNATURE_OR_CHAIN"),
    ("reth decode", "failed to decode signed transaction", -32602,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("anvil", "invalid chain id for signer", -32003, "INVALID_SIGNATURE_OR_CHAIN"),
    ("anvil", "Incompatible EIP-155 transaction, signed for another chain", -32003,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("edr", "Trying to send an incompatible EIP-155 transaction, signed for another chain.",
     -32602, "INVALID_SIGNATURE_OR_CHAIN"),
    ("hardhat classic", "Invalid chainId 5 provided, expected 1 instead.", -32602,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("ganache v7", "Invalid chain id (5) for chain with id 1.", -32000,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("openethereum", "Invalid chain id.", -32010, "INVALID_SIGNATURE_OR_CHAIN"),
    ("openethereum", "Invalid signature: Crypto error (Invalid EC signature)", -32010,
     "INVALID_SIGNATURE_OR_CHAIN"),
    ("treasure (arbitrum)", "invalid chain id for signer", None, "INVALID_SIGNATURE_OR_CHAIN"),
    # ---------------------------------------------------------------- UNSUPPORTED_TYPE
    ("go-ethereum", "transaction type not supported", -32000, "UNSUPPORTED_TYPE"),
    ("op-geth blob", "transaction type not supported", -32000, "UNSUPPORTED_TYPE"),
    ("go-ethereum", "transaction type not supported: type 2 rejected, pool not yet in London",
     -32000, "UNSUPPORTED_TYPE"),
    ("go-ethereum", "transaction type not supported: type 1 rejected, pool not yet in Berlin",
     -32000, "UNSUPPORTED_TYPE"),
    ("go-ethereum", "transaction type not supported: type 3 rejected, pool not yet in Cancun",
     -32000, "UNSUPPORTED_TYPE"),
    ("go-ethereum", "transaction type not supported: type 4 rejected, pool not yet in Prague",
     -32000, "UNSUPPORTED_TYPE"),
    ("go-ethereum", "transaction type not supported: tx type 3 not supported by this pool",
     -32000, "UNSUPPORTED_TYPE"),
    ("erigon", "INVALID: fork supporting this transaction type is not activated yet", -32000,
     "UNSUPPORTED_TYPE"),
    ("nethermind 1.x", "NotSupportedTxType", -32010, "UNSUPPORTED_TYPE"),
    ("nethermind 2026", "unsupported transaction type", -32000, "UNSUPPORTED_TYPE"),
    ("nethermind validator", "InvalidTxType: Transaction type in Custom is not supported.",
     None, "UNSUPPORTED_TYPE"),
    ("besu", "Invalid transaction type", -32602, "UNSUPPORTED_TYPE"),
    ("besu detail", "Transaction type BLOB is invalid, accepted transaction types are "
     "[EIP1559, ACCESS_LIST, FRONTIER]", -32602, "UNSUPPORTED_TYPE"),
    ("reth", "transaction type not supported", -32003, "UNSUPPORTED_TYPE"),
    ("anvil", "EIP-1559 style fee params (maxFeePerGas or maxPriorityFeePerGas) received but "
     "they are not supported by the current hardfork.\n\nYou can use them by running anvil "
     "with '--hardfork london' or later.", -32602, "UNSUPPORTED_TYPE"),
    ("anvil", "Access list received but is not supported by the current hardfork.\n\nYou can "
     "use it by running anvil with '--hardfork berlin' or later.", -32602, "UNSUPPORTED_TYPE"),
    ("anvil", "EIP-4844 fields received but is not supported by the current hardfork.\n\nYou "
     "can use it by running anvil with '--hardfork cancun' or later.", -32602,
     "UNSUPPORTED_TYPE"),
    ("anvil", "EIP-7702 fields received but is not supported by the current hardfork.\n\nYou "
     "can use it by running anvil with '--hardfork prague' or later.", -32602,
     "UNSUPPORTED_TYPE"),
    ("anvil", "Unknown transaction type not supported", -32602, "UNSUPPORTED_TYPE"),
    ("anvil", "op-stack deposit tx received but is not supported.\n\nYou can use it by running "
     "anvil with '--optimism'.", -32602, "UNSUPPORTED_TYPE"),
    ("edr", "Invalid transaction type 5.", -32602, "UNSUPPORTED_TYPE"),
    ("edr", "An EIP-4844 (shard blob) transaction was received, but Hardhat only supports them "
     "via `eth_sendRawTransaction`. See https://github.com/NomicFoundation/hardhat/issues/5023",
     -32000, "UNSUPPORTED_TYPE"),
    ("ganache v7", "EIP 1559 is not activated.", -32602, "UNSUPPORTED_TYPE"),
    ("ganache v7", "EIP 2930 is not activated.", -32602, "UNSUPPORTED_TYPE"),
    ("arbitrum nitro blob", "transaction type not supported", -32000, "UNSUPPORTED_TYPE"),
    ("viem table", "transaction type not valid", None, "UNSUPPORTED_TYPE"),
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
    # ---------------------------------------------------------------- RATE_LIMITED
    ("infura", "project ID request rate exceeded", -32005, "RATE_LIMITED"),
    ("infura", "daily request count exceeded, request rate limited", -32005, "RATE_LIMITED"),
    ("infura", "exceeded project rate limit", -32005, "RATE_LIMITED"),
    ("infura legacy", "legacy access request rate exceeded", -32005, "RATE_LIMITED"),
    ("alchemy", ALCHEMY_CU + "https://docs.alchemy.com/reference/throughput", 429,
     "RATE_LIMITED"),
    ("alchemy older", ALCHEMY_CU + "https://docs.alchemyapi.io/guides/rate-limits", 429,
     "RATE_LIMITED"),
    ("alchemy", "Monthly capacity limit exceeded. Visit https://dashboard.alchemyapi.io/"
     "settings/billing to upgrade your scaling policy for continued service.", -32600,
     "RATE_LIMITED"),
    ("alchemy some ips", "Your IP has exceeded its rate limit", -32016, "RATE_LIMITED"),
    ("quicknode", "25/second request limit reached - reduce calls per second or upgrade your "
     "account at quicknode.com", -32007, "RATE_LIMITED"),
    ("quicknode", "endpoint hit 25/second request limit reached - reduce calls per second or "
     "upgrade your account at quicknode.com", -32007, "RATE_LIMITED"),
    ("quicknode", "credits limited to 1500/sec", -32012, "RATE_LIMITED"),
    ("chainstack", "You've exceeded the RPS limit available on the current plan.", None,
     "RATE_LIMITED"),
    ("proxyd", "over rate limit", -32016, "RATE_LIMITED"),
    ("proxyd", "sender is over rate limit", -32017, "RATE_LIMITED"),
    ("proxyd", "backend is over capacity", -32012, "RATE_LIMITED"),
    ("base op-geth forwarding", "429 Too Many Requests: {\"jsonrpc\":\"2.0\",\"error\":"
     "{\"code\":-32016,\"message\":\"over rate limit\"},\"id\":1}", -32000, "RATE_LIMITED"),
    ("optimism legacy", "This request has been rate limited.", -32000, "RATE_LIMITED"),
    ("hardhat http 429", "Too Many Requests error received from eth-mainnet.alchemyapi.io",
     None, "RATE_LIMITED"),
    ("alloy heuristic", "reached maximum number of concurrent requests", None, "RATE_LIMITED"),
    # ---------------------------------------------------------------- INVALID_FEE_FIELDS
    ("go-ethereum pool", "max priority fee per gas higher than max fee per gas", -32000,
     "INVALID_FEE_FIELDS"),
    ("go-ethereum eth_call", f"err: max priority fee per gas higher than max fee per gas: "
     f"address {ADDR}, maxPriorityFeePerGas: 2000000000, maxFeePerGas: 1000000000 (supplied "
     "gas 50000000)", -32000, "INVALID_FEE_FIELDS"),
    ("go-ethereum", "max fee per gas higher than 2^256-1", -32000, "INVALID_FEE_FIELDS"),
    ("go-ethereum", "max priority fee per gas higher than 2^256-1", -32000,
     "INVALID_FEE_FIELDS"),
    ("erigon", f"tip higher than fee cap: address {ADDR_LC}, tipCap: 2000000000, feeCap: "
     "1000000000", -32000, "INVALID_FEE_FIELDS"),
    ("erigon", "fee cap higher than 2^256-1", -32000, "INVALID_FEE_FIELDS"),
    ("erigon", "tip higher than 2^256-1", -32000, "INVALID_FEE_FIELDS"),
    ("besu", "Max priority fee per gas exceeds max fee per gas", -32000, "INVALID_FEE_FIELDS"),
    ("reth", "max priority fee per gas higher than max fee per gas", -32003,
     "INVALID_FEE_FIELDS"),
    ("anvil", "max priority fee per gas higher than max fee per gas", -32003,
     "INVALID_FEE_FIELDS"),
    ("anvil eth_sendTransaction", "Invalid input: `max_priority_fee_per_gas` greater than "
     "`max_fee_per_gas`", -32602, "INVALID_FEE_FIELDS"),
    ("edr eth_sendTransaction", "maxPriorityFeePerGas (2000000000) is bigger than maxFeePerGas "
     "(1000000000)", -32602, "INVALID_FEE_FIELDS"),
    ("nethermind validator", "InvalidMaxPriorityFeePerGas: Cannot be higher than maxFeePerGas.",
     None, "INVALID_FEE_FIELDS"),
    ("nethermind 1.x", "Int256Overflow", -32010, "INVALID_FEE_FIELDS"),
    ("nethermind 2026", "transaction cost overflow", -32000, "INVALID_FEE_FIELDS"),
    # ---------------------------------------------------------------- OVERSIZED
    ("go-ethereum", "oversized data: transaction size 131200, limit 131072", -32000,
     "OVERSIZED"),
    ("reth >=2025-10", "oversized data: transaction size 131200, limit 131072", -32000,
     "OVERSIZED"),
    ("go-ethereum older", "oversized data", -32000, "OVERSIZED"),
    ("arbitrum nitro", "oversized data", -32000, "OVERSIZED"),
    ("erigon", "INVALID: oversized data", -32000, "OVERSIZED"),
    ("erigon", "INVALID: RLPTooLong", -32000, "OVERSIZED"),
    ("nethermind 1.x", "MaxTxSizeExceeded", -32010, "OVERSIZED"),
    ("nethermind 2026", "transaction too large", -32000, "OVERSIZED"),
    ("erigon / reth", "max initcode size exceeded", -32000, "OVERSIZED"),
    ("anvil", "max initcode size exceeded", -32003, "OVERSIZED"),
    ("go-ethereum pool", "max initcode size exceeded: code size 49153, limit 49152", -32000,
     "OVERSIZED"),
    ("openethereum", "Transaction is too big, see chain specification for the limit.", -32010,
     "OVERSIZED"),
    # ---------------------------------------------------------------- FEE_CAP_EXCEEDED
    ("go-ethereum", "tx fee (1.05 ether) exceeds the configured cap (1.00 ether)", -32000,
     "FEE_CAP_EXCEEDED"),
    ("erigon", "tx fee (2.10 ether) exceeds the configured cap (1.00 ether)", -32000,
     "FEE_CAP_EXCEEDED"),
    ("fantom geth fork", "tx fee (12.50 FTM) exceeds the configured cap (10.00 FTM)", -32000,
     "FEE_CAP_EXCEEDED"),
    ("celo geth fork", "tx fee (1.50 of currency celo) exceeds the configured cap (1.00 celo)",
     -32000, "FEE_CAP_EXCEEDED"),
    ("reth", "tx fee (1050000000000000000 wei) exceeds the configured cap (1000000000000000000 "
     "wei)", -32000, "FEE_CAP_EXCEEDED"),
    ("besu", "Transaction fee cap exceeded", -32000, "FEE_CAP_EXCEEDED"),
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
    # ---------------------------------------------------------------- TIMEOUT
    ("go-ethereum", "request timed out", -32002, "TIMEOUT"),
    ("go-ethereum eth_call", "execution aborted (timeout = 5s)", -32000, "TIMEOUT"),
    ("reth", "execution aborted (timeout = 5s)", -32000, "TIMEOUT"),
    ("besu", "Timeout expired", -32603, "TIMEOUT"),
    ("proxyd", "gateway timeout", -32015, "TIMEOUT"),
    ("arbitrum nitro", "context deadline exceeded", -32000, "TIMEOUT"),
    ("arbitrum rpc", "408 Request Timeout: {\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32009,"
     "\"message\":\"request timeout\"},\"id\":1}", None, "TIMEOUT"),
    # ---------------------------------------------------------------- ACCEPTED_PENDING
    ("go-ethereum sync", "The transaction was added to the transaction pool but wasn't "
     "processed in 2s", 4, "ACCEPTED_PENDING"),
    ("go-ethereum sync", "The transaction was added to the transaction pool but wasn't "
     "processed in 1m0s", 4, "ACCEPTED_PENDING"),
    ("reth sync", f"Transaction {HASH} was added to the mempool but wasn't confirmed within "
     "2s.", 4, "ACCEPTED_PENDING"),
    ("anvil sync", "Transaction confirmation timeout", 4, "ACCEPTED_PENDING"),
    # ---------------------------------------------------------------- NODE_UNAVAILABLE
    ("arbitrum nitro", "sequencer temporarily not available", -32000, "NODE_UNAVAILABLE"),
    ("nethermind 2026", "node is syncing", -32000, "NODE_UNAVAILABLE"),
    ("besu", "Initial sync is still in progress", -32008, "NODE_UNAVAILABLE"),
    ("besu", "Transaction pool not enabled. (Either txpool explicitly disabled, or node not "
     "yet in sync).", -32002, "NODE_UNAVAILABLE"),
    ("arbitrum nitro", "currently not accepting transactions due to expected surplus being "
     "below threshold", -32000, "NODE_UNAVAILABLE"),
    ("mantle", "failed to forward tx to sequencer, please try again. Error message: 'Internal "
     "server error'", None, "NODE_UNAVAILABLE"),
    # ---------------------------------------------------------------- SENDER_NOT_EOA
    ("go-ethereum", "sender not an eoa", -32000, "SENDER_NOT_EOA"),
    ("erigon", "sender not an eoa", -32000, "SENDER_NOT_EOA"),
    ("anvil", "sender not an eoa", -32003, "SENDER_NOT_EOA"),
    ("reth", "sender is not an EOA", -32003, "SENDER_NOT_EOA"),
    ("go-ethereum eth_call", f"err: sender not an eoa: address {ADDR}, len(code): 23 "
     "(supplied gas 50000000)", -32000, "SENDER_NOT_EOA"),
    ("nethermind 1.x", "SenderIsContract", -32010, "SENDER_NOT_EOA"),
    ("nethermind 2026", "sender not an eoa", -32000, "SENDER_NOT_EOA"),
    # ---------------------------------------------------------------- miscellaneous
    ("nethermind 1.x", "PendingTxsOfConflictingType", -32010, "POOL_FULL"),
    ("go-ethereum", "negative value", -32000, "OTHER"),
    ("go-ethereum", "nonce has max value", -32000, "OTHER"),
    ("besu", "Sender account not authorized to send transactions", -32007, "OTHER"),
    ("besu", "An invalid transaction with a lower nonce exists", -32000, "NONCE_TOO_HIGH"),
    ("arbitrum nitro", "transaction sender is not on the whitelist", -32000, "OTHER"),
    ("arbitrum classic", "invalid message format", None, "OTHER"),
    ("arbitrum classic", "forbidden sender address", None, "OTHER"),
    ("arbitrum classic", "tx dropped due to L2 congestion", None, "POOL_FULL"),
    ("mantle", "failed to forward tx to sequencer, please try again. Error message: 'nonce too "
     "low'", None, "NONCE_TOO_LOW"),
    ("mantle", "failed to forward tx to sequencer, please try again. Error message: "
     "'replacement transaction underpriced'", None, "UNDERPRICED_REPLACEMENT"),
    ("go-ethereum 7702", "EIP-7702 authorization nonce does not match current account nonce",
     None, "OTHER"),
    ("go-ethereum 7702", "authority nonce too low", -32000, "OTHER"),
    # ---------------------------------------------------------------- transport failures
    ("requests", "HTTPConnectionPool(host='127.0.0.1', port=8545): Max retries exceeded with "
     "url: / (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at "
     "0x7f2c>: Failed to establish a new connection: [Errno 111] Connection refused'))", None,
     "NODE_UNAVAILABLE"),
    ("requests", "HTTPSConnectionPool(host='eth.example.org', port=443): Read timed out. "
     "(read timeout=10)", None, "TIMEOUT"),
    ("aiohttp", "Cannot connect to host eth.example.org:443 ssl:default [Connection reset by "
     "peer]", None, "NODE_UNAVAILABLE"),
    ("http 502", "502 Server Error: Bad Gateway for url: https://eth.example.org/", None,
     "NODE_UNAVAILABLE"),
    ("http 503", "503 Service Unavailable", 503, "NODE_UNAVAILABLE"),
    ("http 504", "upstream request failed", 504, "TIMEOUT"),
]

# Prefixes and bodies that nodes, proxies and client libraries put around a message; each
# must leave the class of the inner message unchanged.
WRAPPERS = [
    "err: {} (supplied gas 50000000)", "failed with 50000000 gas: {}", "FEE_TOO_LOW: {}",
    "INVALID: {}", "INTERNAL_ERROR: {}", "ALREADY_EXISTS: {}", "invalid transaction: {}",
    "transaction rejected: {}", "tracing failed: {}", "call failed: {}",
    "failed to forward tx to sequencer, please try again. Error message: '{}'",
    '400 Bad Request: {{"jsonrpc":"2.0","error":{{"code":-32000,"message":"{}"}},"id":7}}',
    "cannot estimate gas; transaction may fail or may require manual gas limit "
    '(reason="{}", method="estimateGas", code=UNPREDICTABLE_GAS_LIMIT)',
]
WRAPPED = [
    ("nonce too low: next nonce 5, tx nonce 3", "NONCE_TOO_LOW"),
    ("insufficient funds for gas * price + value", "INSUFFICIENT_FUNDS"),
    ("replacement transaction underpriced", "UNDERPRICED_REPLACEMENT"),
    ("intrinsic gas too low: gas 20000, minimum needed 21000", "INTRINSIC_GAS"),
    ("exceeds block gas limit", "GAS_LIMIT_EXCEEDED"),
    ("already known", "ALREADY_KNOWN"),
    ("execution reverted: Ownable: caller is not the owner", "REVERTED"),
]

# The expected (action, error_code, retryable) of every class.
EXPECTED_OUTCOMES: dict[str, tuple[str, str, bool]] = {
    "ALREADY_KNOWN": ("success", "node_rejected", True),
    "ACCEPTED_PENDING": ("accepted", "node_unavailable", True),
    "NONCE_TOO_LOW": ("check_nonce", "nonce_conflict", False),
    "NONCE_TOO_HIGH": ("retry", "node_rejected", True),
    "UNDERPRICED_REPLACEMENT": ("bump_fee", "fee_too_low", True),
    "UNDERPRICED": ("bump_fee", "fee_too_low", True),
    "FEE_BELOW_BASE_FEE": ("bump_fee", "fee_too_low", True),
    "POOL_FULL": ("retry", "node_unavailable", True),
    "RATE_LIMITED": ("retry", "node_unavailable", True),
    "TIMEOUT": ("retry", "node_unavailable", True),
    "NODE_UNAVAILABLE": ("retry", "node_unavailable", True),
    "INSUFFICIENT_FUNDS": ("fail", "insufficient_funds", False),
    "INTRINSIC_GAS": ("fail", "gas_too_low", False),
    "GAS_LIMIT_EXCEEDED": ("fail", "gas_limit_exceeded", False),
    "REVERTED": ("fail", "execution_reverted", False),
    "EXECUTION_FAILED": ("fail", "execution_reverted", False),
    "INVALID_FEE_FIELDS": ("fail", "fee_conflict", False),
    "INVALID_SIGNATURE_OR_CHAIN": ("fail", "node_rejected", False),
    "UNSUPPORTED_TYPE": ("fail", "node_rejected", False),
    "OVERSIZED": ("fail", "node_rejected", False),
    "FEE_CAP_EXCEEDED": ("fail", "node_rejected", False),
    "SENDER_NOT_EOA": ("fail", "node_rejected", False),
    "OTHER": ("fail", "node_rejected", False),
}


def word(hex_digits: str) -> str:
    return hex_digits.rjust(64, "0")


# ABI data assembled by hand (selector, offset, length, padded bytes) so that decoding is
# checked against an encoding that does not come from the library under use.
ERROR_STRING_DATA = (
    "0x08c379a0" + word("20") + word("18") + b"Dai/insufficient-balance".hex().ljust(64, "0")
)
PANIC_11_DATA = "0x4e487b71" + word("11")
PANIC_12_DATA = "0x4e487b71" + word("12")
PANIC_99_DATA = "0x4e487b71" + word("99")
CUSTOM_ERROR_DATA = "0x118cdaa7" + word(ADDR[2:].lower())
