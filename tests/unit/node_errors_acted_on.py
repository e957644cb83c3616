"""Real node error messages the pipeline acts on rather than fails the transaction for
(already known, nonce conflicts, underpriced fees, a full pool, rate limits, timeouts, an
unavailable node, transport failures), each with the class it must get. Rows as in
``tests.unit.node_error_cases``."""

from __future__ import annotations

from tests.unit.node_error_values import ADDR, ADDR_LC, ALCHEMY_CU, HASH

ACTED_ON: list[tuple[str, str, int | None, str]] = [
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
