"""Typed errors with stable machine codes.

Every code kvsigner can return is declared once in ``ERROR_CODES`` with its HTTP status,
whether retrying can help, and what it means (the README's error table is generated from it).
Code raises ``KvsignerError`` (or a family subclass) with one of these codes; the API turns it
into ``{"error": {"code", "message"}}`` with the declared status, and the worker pipeline uses
``retryable`` to decide between retry and giving up. Messages must never contain secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorCode:
    http_status: int
    retryable: bool
    meaning: str


ERROR_CODES: dict[str, ErrorCode] = {
    # Request validation (API), nothing stored or enqueued.
    "invalid_json": ErrorCode(400, False, "The body is not valid JSON, or not a JSON object."),
    "unsupported_media_type": ErrorCode(415, False, "The body must be `application/json`."),
    "body_too_large": ErrorCode(413, False, "The body exceeds KVSIGNER_API_MAX_BODY_BYTES."),
    "invalid_field": ErrorCode(
        400, False, "A field is missing, malformed, out of range or unknown; the message "
        "names it."),
    "invalid_address": ErrorCode(
        400, False, "An address is not 20 bytes of hex, or its mixed case fails the EIP-55 "
        "checksum."),
    "unknown_account": ErrorCode(
        400, False, "`from` is not an enabled account of the configured vault."),
    "fee_conflict": ErrorCode(
        400, False, "Fee fields contradict each other or the transaction type (e.g. "
        "gasPrice with maxFeePerGas, or a priority fee above the max fee)."),
    "wrong_chain": ErrorCode(400, False, "`chainId` differs from the node's chain."),
    "idempotency_conflict": ErrorCode(
        409, False, "The Idempotency-Key was already used with a different body."),
    "not_found": ErrorCode(404, False, "No such resource."),
    "not_cancellable": ErrorCode(
        409, False, "The transaction is already mined or finished and cannot be cancelled."),
    "method_not_allowed": ErrorCode(405, False, "The endpoint does not accept this method."),
    "invalid_cursor": ErrorCode(400, False, "The paging cursor is malformed."),
    # Access control.
    "unauthorized": ErrorCode(
        401, False, "No API key, or one that is malformed, unknown or revoked. Send "
        "`Authorization: Bearer <key>`; keys are made with `kvsigner apikey create`."),
    "forbidden": ErrorCode(
        403, False, "The API key may not do this: a read-only key asked for a change, or a "
        "key limited to some senders named another account."),
    "rate_limited": ErrorCode(
        429, True, "The API key exceeded KVSIGNER_API_RATE_LIMIT; retry after the "
        "`Retry-After` seconds."),
    # JSON-RPC.
    "send_timeout": ErrorCode(
        504, False, "eth_sendTransaction waited KVSIGNER_RPC_SEND_TIMEOUT for the broadcast; "
        "the transaction stays queued and will be sent (`data.id` names it). Do not resend."),
    "subscription_limit": ErrorCode(
        429, False, "A WebSocket connection already holds the most subscriptions allowed "
        "(100)."),
    "forbidden_origin": ErrorCode(
        403, False, "A WebSocket handshake came from a web page whose Origin is not in "
        "KVSIGNER_RPC_WS_ORIGINS."),
    # Webhooks.
    "webhook_url_forbidden": ErrorCode(
        400, False, "The webhook URL is not allowed: not http(s), carries credentials, or "
        "its host is or resolves to a loopback, private, link-local, metadata or other "
        "reserved address (see KVSIGNER_WEBHOOK_ALLOW). `details.reason` names the rule."),
    "webhook_secret_not_configured": ErrorCode(
        503, False, "A per-transaction `webhookUrl` needs KVSIGNER_WEBHOOK_SECRET (a whsec_ "
        "secret) on the server to sign its deliveries."),
    "delivery_in_progress": ErrorCode(
        409, False, "The webhook delivery is still pending; redeliver it once it is "
        "delivered or failed."),
    # Key Vault.
    "vault_not_configured": ErrorCode(
        503, False, "KVSIGNER_VAULT_URL is not set, so nothing can be signed."),
    "vault_auth_failed": ErrorCode(
        502, False, "Azure credentials were refused or no token could be obtained."),
    "vault_forbidden": ErrorCode(
        502, False, "The vault refused the operation (RBAC, access policy or firewall)."),
    "vault_key_disabled": ErrorCode(409, False, "The vault key of this account is disabled."),
    "vault_key_not_found": ErrorCode(
        409, False, "The vault key (or key version) of this account no longer exists."),
    "vault_bad_request": ErrorCode(
        502, False, "The vault rejected the request as malformed (digest or algorithm)."),
    "vault_throttled": ErrorCode(
        503, True, "The vault kept answering 429 after every retry."),
    "vault_unavailable": ErrorCode(
        503, True, "The vault did not answer, timed out or returned a server error."),
    "signature_invalid": ErrorCode(
        502, False, "The vault's signature did not recover to the account's public key; "
        "nothing was broadcast."),
    "sender_mismatch": ErrorCode(
        500, False, "The signed transaction's recovered sender is not the account; nothing "
        "was broadcast."),
    "audit_unavailable": ErrorCode(
        503, True, "The audit log (Redis) could not record the signature, so nothing was "
        "signed or the signature was withheld."),
    # Node and chain.
    "node_unavailable": ErrorCode(
        503, True, "The Ethereum node did not answer or is rate limiting."),
    "execution_reverted": ErrorCode(
        422, False, "Gas estimation shows the call reverts; the message carries the reason. "
        "No nonce was used."),
    "insufficient_funds": ErrorCode(
        422, False, "The sender cannot pay value + gas x fee."),
    "gas_too_low": ErrorCode(422, False, "The gas limit is below the intrinsic cost."),
    "gas_limit_exceeded": ErrorCode(
        422, False, "The gas limit is above the block gas limit or the node's cap."),
    "fee_too_low": ErrorCode(
        422, True, "The node refused the fee (below minimum or base fee, or an underpriced "
        "replacement)."),
    "nonce_conflict": ErrorCode(
        409, False, "The node reports the nonce as already used by another transaction."),
    "node_rejected": ErrorCode(
        422, False, "The node rejected the transaction for another reason; the message "
        "quotes it."),
    # Generic.
    "invalid_settings": ErrorCode(
        500, False, "A KVSIGNER_/AZURE_ environment variable has a value that cannot be used; "
        "the message names it."),
    "internal_error": ErrorCode(500, False, "An unexpected error; the logs carry details."),
}


class KvsignerError(Exception):
    """An error with a stable ``code`` from ``ERROR_CODES``.

    ``retryable`` defaults to the code's declaration; ``details`` is a JSON-safe dict of
    extra facts (never secrets) that the API may show.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"undeclared error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = ERROR_CODES[code].retryable if retryable is None else retryable
        self.details = details or {}

    @property
    def http_status(self) -> int:
        return ERROR_CODES[self.code].http_status

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class ValidationError(KvsignerError):
    """Bad input: nothing was stored or enqueued."""


class VaultError(KvsignerError):
    """Key Vault refused, failed or could not be reached."""


class SigningError(KvsignerError):
    """A signature could not be turned into a valid Ethereum signature for the account."""


class NodeError(KvsignerError):
    """The Ethereum node refused or failed a request; ``node_class`` is its outcome class."""

    def __init__(self, code: str, message: str, *, node_class: str = "OTHER",
                 retryable: bool | None = None) -> None:
        super().__init__(code, message, retryable=retryable)
        self.node_class = node_class
