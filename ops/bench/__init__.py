"""``kvsigner bench``: end-to-end throughput of the pipeline against a direct signing loop.

Modules: ``cli`` (arguments, orchestration, output), ``target`` (a stack started for the run
or one already running), ``client`` (the HTTP API as a client sees it), ``pipeline_run``
(transactions through ``POST /transactions`` until every receipt), ``direct_run`` (one process
signing through the vault and sending raw transactions), ``checks`` (nonce gaps and
duplicates from the records and the chain), ``report`` (percentiles, JSON and the table) and
``fund`` (gives vault accounts ether on a development node).
"""
