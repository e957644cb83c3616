"""Signed webhooks: events derived from transaction records, delivered to subscribers.

Entry points for the rest of kvsigner:

* ``worker.webhooks.publish.changed(services, record)``: the pipeline's ``on_change``;
  records new events and queues their deliveries, at once or at the end of the enclosing
  ``together(services)`` block (never raises).
* ``worker.webhooks.ssrf.check_webhook_url(url, settings)``: the URL guard for anything that
  accepts a webhook URL.
* ``worker.webhooks.tasks``: the Celery tasks (``kvsigner.webhooks.deliver`` and
  ``kvsigner.webhooks.sweep``) that run on the webhooks queue only.
* ``api.webhooks.blueprint``: ``/webhooks`` subscriptions and the delivery log.
"""
