"""Settings: the only place that reads environment variables.

Every setting is declared once in ``FIELDS`` with its variable name, type, default and
meaning; the README's configuration table is generated from this list. ``Settings`` is an
immutable value: build it with ``Settings.from_env()`` (or pass overrides in tests), never
read ``os.environ`` elsewhere. Secrets are wrapped in ``Secret`` so that they never appear in
a repr, a log line or an error message; how each variable's text is parsed is in
``worker.setting_values``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from worker.setting_values import (
    Secret,
    boolean,
    choice,
    niceness,
    optional_int,
    optional_str,
    seconds_list,
)


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Field:
    """One setting: attribute name, environment variable, parser, default and meaning."""

    name: str
    env: str
    parse: Callable[[str], Any]
    default: Any
    doc: str
    secret: bool = False


CREDENTIAL_MODES = ("default", "client_secret", "managed_identity", "workload_identity")
AUTH_MODES = ("required", "off")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


FIELDS: tuple[Field, ...] = (
    # --- Key Vault -------------------------------------------------------------------
    Field("vault_url", "KVSIGNER_VAULT_URL", str, "",
          "Key Vault URL, e.g. https://myvault.vault.azure.net. Required for signing."),
    Field("vault_key_tag", "KVSIGNER_VAULT_KEY_TAG", optional_str, None,
          "Only keys carrying this tag become accounts: `name` (any value) or `name=value`."),
    Field("vault_ca_file", "KVSIGNER_VAULT_CA_FILE", optional_str, None,
          "PEM bundle to verify the vault's and token endpoint's TLS certificates. "
          "Unset: `REQUESTS_CA_BUNDLE` if set, else the certifi bundle."),
    Field("vault_verify_challenge_resource", "KVSIGNER_VAULT_VERIFY_CHALLENGE_RESOURCE",
          boolean, True,
          "Require the vault host to match the auth challenge's resource domain. Keep true "
          "in production; the local emulator needs false."),
    Field("vault_refresh_seconds", "KVSIGNER_VAULT_REFRESH_SECONDS", float, 300.0,
          "How often the list of vault keys (accounts and public keys) is refreshed."),
    Field("vault_connect_timeout", "KVSIGNER_VAULT_CONNECT_TIMEOUT", float, 5.0,
          "Seconds to open a connection to the vault or token endpoint."),
    Field("vault_read_timeout", "KVSIGNER_VAULT_READ_TIMEOUT", float, 15.0,
          "Seconds to wait for a vault response."),
    Field("vault_sign_retries", "KVSIGNER_VAULT_SIGN_RETRIES", int, 5,
          "Retries of one sign call after throttling (429), 5xx or a timeout; backoff "
          "1, 2, 4, 8, 16 s with jitter, or the vault's Retry-After."),
    Field("vault_backoff_cap", "KVSIGNER_VAULT_BACKOFF_CAP", float, 16.0,
          "Longest single wait between sign retries, in seconds."),
    Field("vault_rate_limit", "KVSIGNER_VAULT_RATE_LIMIT", int, 1800,
          "Sign calls per 10 seconds that all workers together may make to the vault "
          "(shared through Redis). Keep it below the vault's quota: 2,000 for HSM keys, "
          "4,000 for software keys. 0 turns the limiter off."),
    # --- Azure credentials (azure-identity's standard variables) ------------------------
    Field("azure_credential", "KVSIGNER_AZURE_CREDENTIAL", choice(CREDENTIAL_MODES), "default",
          "How to authenticate to Azure: `default` (DefaultAzureCredential chain), "
          "`client_secret`, `managed_identity` or `workload_identity`."),
    Field("azure_tenant_id", "AZURE_TENANT_ID", str, "", "Entra ID tenant (directory) id."),
    Field("azure_client_id", "AZURE_CLIENT_ID", str, "",
          "Application (client) id; for managed identity, a user-assigned identity's id."),
    Field("azure_client_secret", "AZURE_CLIENT_SECRET", Secret, Secret(""),
          "Client secret for `client_secret` mode.", secret=True),
    Field("azure_authority_host", "AZURE_AUTHORITY_HOST", optional_str, None,
          "Token authority, e.g. https://login.microsoftonline.com (the default) or a "
          "sovereign cloud's."),
    Field("azure_disable_instance_discovery", "KVSIGNER_AZURE_DISABLE_INSTANCE_DISCOVERY",
          boolean, False,
          "Skip Entra instance discovery (needed for a private authority such as the "
          "emulator's)."),
    Field("azure_federated_token_file", "AZURE_FEDERATED_TOKEN_FILE", optional_str, None,
          "Workload identity token file (set by the AKS webhook)."),
    # --- Node, Redis, chain ------------------------------------------------------------
    Field("node_url", "KVSIGNER_NODE_URL", str, "http://127.0.0.1:8545",
          "Ethereum JSON-RPC endpoint (HTTP)."),
    Field("node_timeout", "KVSIGNER_NODE_TIMEOUT", float, 10.0,
          "Seconds to wait for one node request."),
    Field("node_ws_url", "KVSIGNER_NODE_WS_URL", optional_str, None,
          "The node's WebSocket endpoint, for eth_subscribe on /ws. Unset: KVSIGNER_NODE_URL "
          "with http(s) turned into ws(s)."),
    Field("chain_id", "KVSIGNER_CHAIN_ID", optional_int, None,
          "Expected chain id; unset: whatever the node reports. Requests for another chain "
          "are refused."),
    Field("redis_url", "KVSIGNER_REDIS_URL", str, "redis://127.0.0.1:6379/0",
          "Redis for records, nonces, locks and the Celery broker. A password in it "
          "(`redis://:PASSWORD@host:6379/0`) is redacted from logs."),
    Field("broker_url", "KVSIGNER_BROKER_URL", optional_str, None,
          "Celery broker URL; unset: the Redis URL."),
    # --- Transactions --------------------------------------------------------------------
    Field("gas_margin_percent", "KVSIGNER_GAS_MARGIN_PERCENT", int, 20,
          "Margin added to eth_estimateGas, in percent."),
    Field("fee_base_multiplier", "KVSIGNER_FEE_BASE_MULTIPLIER", float, 2.0,
          "maxFeePerGas = base fee x this + tip, so the fee survives several full blocks."),
    Field("confirmations", "KVSIGNER_CONFIRMATIONS", int, 1,
          "Blocks on top of the mined block before a transaction is `confirmed`."),
    Field("stuck_seconds", "KVSIGNER_STUCK_SECONDS", float, 60.0,
          "A submitted transaction not mined this long after its last broadcast is re-signed "
          "with the same nonce and higher fees."),
    Field("bump_percent", "KVSIGNER_BUMP_PERCENT", int, 15,
          "How much each fee bump raises both maxFeePerGas and maxPriorityFeePerGas (or "
          "gasPrice), in percent; pools require at least 10."),
    Field("max_bumps", "KVSIGNER_MAX_BUMPS", int, 10,
          "Most fee bumps of one transaction."),
    Field("max_fee_cap_wei", "KVSIGNER_MAX_FEE_CAP_WEI", int, 500 * 10**9,
          "Fee bumps never raise maxFeePerGas (or gasPrice) above this, in wei."),
    Field("gap_fill_seconds", "KVSIGNER_GAP_FILL_SECONDS", float, 30.0,
          "A handed-back nonce that no new transaction takes within this time is filled with "
          "a 0-value self-transfer, so later transactions never wait behind a gap."),
    Field("reconcile_seconds", "KVSIGNER_RECONCILE_SECONDS", float, 15.0,
          "How often each active sender's nonce state is compared with the chain and "
          "repaired."),
    Field("receipt_poll_seconds", "KVSIGNER_RECEIPT_POLL_SECONDS", float, 1.0,
          "How often a submitted transaction's receipt is looked for."),
    Field("record_ttl_seconds", "KVSIGNER_RECORD_TTL_SECONDS", int, 30 * 24 * 3600,
          "How long finished transaction records are kept."),
    Field("nonce_lock_seconds", "KVSIGNER_NONCE_LOCK_SECONDS", float, 30.0,
          "Expiry of a sender's nonce lock (held for a few Redis round trips only)."),
    Field("task_time_limit", "KVSIGNER_TASK_TIME_LIMIT", int, 120,
          "Hard time limit of one worker task, in seconds."),
    Field("lease_seconds", "KVSIGNER_LEASE_SECONDS", float, 60.0,
          "How long one worker may hold a transaction before another may take it over "
          "(after a crash)."),
    Field("nonce_resync_seconds", "KVSIGNER_NONCE_RESYNC_SECONDS", float, 15.0,
          "How old a sender's local nonce state may get before it is compared with the "
          "node's pending count again."),
    Field("visibility_timeout", "KVSIGNER_VISIBILITY_TIMEOUT", int, 120,
          "Seconds before a task taken by a worker that vanished is delivered again."),
    Field("sweep_seconds", "KVSIGNER_SWEEP_SECONDS", float, 20.0,
          "How long a transaction may make no progress before the sweeper queues it again."),
    Field("worker_concurrency", "KVSIGNER_WORKER_CONCURRENCY", int, 8,
          "Tasks one worker process runs at once (threads)."),
    Field("worker_nice", "KVSIGNER_WORKER_NICE", niceness, 0,
          "Niceness (0-19) a worker or beat process adds to itself at start (and to its "
          "session when it leads one: Linux shares the CPU between sessions first). On a "
          "machine shared with the API, the API then answers first and the workers take the "
          "CPU it leaves. `kvsigner dev` and the benchmark use 10, and give the anvil and "
          "vault emulator they start the same share; containers: see Deployment."),
    # --- API -----------------------------------------------------------------------------
    Field("api_max_body_bytes", "KVSIGNER_API_MAX_BODY_BYTES", int, 128 * 1024,
          "Largest request body the API accepts."),
    Field("metadata_max_bytes", "KVSIGNER_METADATA_MAX_BYTES", int, 4096,
          "Largest `metadata` object (as JSON) stored with a transaction."),
    Field("public_url", "KVSIGNER_PUBLIC_URL", optional_str, None,
          "Base URL under which clients reach the API (shown by /status)."),
    # --- JSON-RPC ------------------------------------------------------------------------
    Field("rpc_send_timeout", "KVSIGNER_RPC_SEND_TIMEOUT", float, 25.0,
          "Seconds eth_sendTransaction waits for its transaction to be broadcast before "
          "answering with an error naming the still-queued record (below web3.py's 30 s "
          "request timeout)."),
    Field("rpc_max_batch", "KVSIGNER_RPC_MAX_BATCH", int, 100,
          "Most requests in one JSON-RPC batch."),
    Field("rpc_ws_origins", "KVSIGNER_RPC_WS_ORIGINS", str, "",
          "Browser origins allowed to open /ws (comma-separated, `*` for any). Unset: "
          "handshakes carrying an Origin header are refused, so web pages cannot use the "
          "signer."),
    Field("rpc_proxy_deny", "KVSIGNER_RPC_PROXY_DENY", str,
          "admin_,debug_,miner_,personal_,anvil_,hardhat_,evm_,engine_,clique_",
          "JSON-RPC method prefixes that are never passed on to the node (node "
          "administration and dev-chain controls), comma-separated. Empty: pass everything."),
    # --- Webhooks ------------------------------------------------------------------------
    Field("webhook_secret", "KVSIGNER_WEBHOOK_SECRET", Secret, Secret(""),
          "Signs deliveries to a transaction's own `webhookUrl`: `whsec_` + base64 of 24+ "
          "random bytes (Standard Webhooks). During a rotation list several, space-separated, "
          "newest first: each delivery then carries one signature per secret. Unset: requests "
          "with `webhookUrl` are refused.", secret=True),
    Field("webhook_allow", "KVSIGNER_WEBHOOK_ALLOW", str, "",
          "Webhook destinations the SSRF guard admits anyway, comma-separated: address "
          "categories (`loopback`, `private`, `linklocal`, `cgnat`, `multicast`, `reserved`, "
          "`unspecified`, `metadata`), CIDRs, or host names (`.corp.example` for a domain)."),
    Field("webhook_connect_timeout", "KVSIGNER_WEBHOOK_CONNECT_TIMEOUT", float, 5.0,
          "Seconds to connect to a webhook receiver."),
    Field("webhook_read_timeout", "KVSIGNER_WEBHOOK_READ_TIMEOUT", float, 10.0,
          "Seconds to wait for a webhook receiver's answer."),
    Field("webhook_retry_schedule", "KVSIGNER_WEBHOOK_RETRY_SCHEDULE", seconds_list,
          "5,30,120,600,1800,3600,10800",
          "Seconds between attempts of one webhook delivery, comma-separated (+-20% jitter); "
          "the last repeats until the retry window is over."),
    Field("webhook_retry_window_seconds", "KVSIGNER_WEBHOOK_RETRY_WINDOW_SECONDS", float,
          86400.0, "How long a webhook delivery is retried before it is marked `failed`."),
    Field("webhook_sweep_seconds", "KVSIGNER_WEBHOOK_SWEEP_SECONDS", float, 5.0,
          "How often due webhook retries are queued and missed events published."),
    # --- Access control and logs ---------------------------------------------------------
    Field("auth", "KVSIGNER_AUTH", choice(AUTH_MODES), "required",
          "`required`: every API request but /healthz, /readyz and /openapi.json needs "
          "`Authorization: Bearer <key>` (keys: `kvsigner apikey`). `off`: no checks at all, "
          "for local development only."),
    Field("open_status", "KVSIGNER_OPEN_STATUS", boolean, False,
          "Serve /status and /metrics without an API key (e.g. to a scraper on a private "
          "network)."),
    Field("api_rate_limit", "KVSIGNER_API_RATE_LIMIT", float, 50.0,
          "Requests per second each API key may make, shared by all API processes through "
          "Redis; excess requests get 429 with Retry-After. 0 turns the limit off."),
    Field("api_rate_burst", "KVSIGNER_API_RATE_BURST", optional_int, None,
          "Requests a key may make at once before the rate applies. Unset: twice "
          "KVSIGNER_API_RATE_LIMIT (at least 1)."),
    Field("log_format", "KVSIGNER_LOG_FORMAT", choice(LOG_FORMATS), "json",
          "`json`: one JSON object per line (time, level, logger, message, request_id, "
          "tx_id, api_key, exception). `text`: one readable line each."),
    Field("log_level", "KVSIGNER_LOG_LEVEL", choice(LOG_LEVELS, upper=True), "INFO",
          "Lowest level logged: DEBUG, INFO, WARNING, ERROR or CRITICAL. The Azure SDK's "
          "line per HTTP request and Celery's lines per task are logged only at DEBUG."),
    # --- Audit log ---------------------------------------------------------------------
    Field("audit_retention_days", "KVSIGNER_AUDIT_RETENTION_DAYS", float, 0.0,
          "Audit entries older than this many days are trimmed as new entries are "
          "written. 0: the audit log is never trimmed."),
)


@dataclass(frozen=True)
class Settings:
    """All of kvsigner's configuration. Fields mirror ``FIELDS`` one to one."""

    vault_url: str = ""
    vault_key_tag: str | None = None
    vault_ca_file: str | None = None
    vault_verify_challenge_resource: bool = True
    vault_refresh_seconds: float = 300.0
    vault_connect_timeout: float = 5.0
    vault_read_timeout: float = 15.0
    vault_sign_retries: int = 5
    vault_backoff_cap: float = 16.0
    vault_rate_limit: int = 1800
    azure_credential: str = "default"
    azure_tenant_id: str = ""
    azure_client_id: str = ""
    azure_client_secret: Secret = field(default_factory=lambda: Secret(""))
    azure_authority_host: str | None = None
    azure_disable_instance_discovery: bool = False
    azure_federated_token_file: str | None = None
    node_url: str = "http://127.0.0.1:8545"
    node_timeout: float = 10.0
    node_ws_url: str | None = None
    chain_id: int | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    broker_url: str | None = None
    gas_margin_percent: int = 20
    fee_base_multiplier: float = 2.0
    confirmations: int = 1
    stuck_seconds: float = 60.0
    bump_percent: int = 15
    max_bumps: int = 10
    max_fee_cap_wei: int = 500 * 10**9
    gap_fill_seconds: float = 30.0
    reconcile_seconds: float = 15.0
    receipt_poll_seconds: float = 1.0
    record_ttl_seconds: int = 30 * 24 * 3600
    nonce_lock_seconds: float = 30.0
    task_time_limit: int = 120
    lease_seconds: float = 60.0
    nonce_resync_seconds: float = 15.0
    visibility_timeout: int = 120
    sweep_seconds: float = 20.0
    worker_concurrency: int = 8
    worker_nice: int = 0
    api_max_body_bytes: int = 128 * 1024
    metadata_max_bytes: int = 4096
    public_url: str | None = None
    rpc_send_timeout: float = 25.0
    rpc_max_batch: int = 100
    rpc_ws_origins: str = ""
    rpc_proxy_deny: str = "admin_,debug_,miner_,personal_,anvil_,hardhat_,evm_,engine_,clique_"
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    webhook_allow: str = ""
    webhook_connect_timeout: float = 5.0
    webhook_read_timeout: float = 10.0
    webhook_retry_schedule: str = "5,30,120,600,1800,3600,10800"
    webhook_retry_window_seconds: float = 86400.0
    webhook_sweep_seconds: float = 5.0
    auth: str = "required"
    open_status: bool = False
    api_rate_limit: float = 50.0
    api_rate_burst: int | None = None
    log_format: str = "json"
    log_level: str = "INFO"
    audit_retention_days: float = 0.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every ``FIELDS`` variable from ``environ`` (default ``os.environ``).

        Raises ``SettingsError`` naming the variable when a value cannot be parsed.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in FIELDS:
            raw = env.get(f.env)
            if raw is None:
                continue
            try:
                values[f.name] = f.parse(raw)
            except (TypeError, ValueError) as exc:
                shown = "(hidden)" if f.secret else repr(raw)
                raise SettingsError(f"{f.env}={shown} is not valid: {exc}") from None
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def broker(self) -> str:
        return self.broker_url or self.redis_url


def _check_fields_match() -> None:
    names = {f.name for f in FIELDS}
    attrs = {f.name for f in dataclasses.fields(Settings)}
    if names != attrs:  # pragma: no cover - guards edits to this file
        raise RuntimeError(f"FIELDS and Settings differ: {sorted(names ^ attrs)}")


_check_fields_match()
