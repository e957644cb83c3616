"""Celery queue names, importable without building the Celery app (the API needs them)."""

SEND_QUEUE = "kvsigner.send"
RECEIPTS_QUEUE = "kvsigner.receipts"
WEBHOOKS_QUEUE = "kvsigner.webhooks"
QUEUES = (SEND_QUEUE, RECEIPTS_QUEUE, WEBHOOKS_QUEUE)
