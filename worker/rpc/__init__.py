"""Drop-in Ethereum JSON-RPC: the methods kvsigner answers itself, and a passthrough to the
node for every other method.

``dispatch`` turns request bodies into responses (batches, validation, error codes);
``methods`` holds one function per local method; ``proxy`` forwards requests to the node;
``subscriptions`` relays ``eth_subscribe`` over a WebSocket of the node; ``ws_session`` runs
one client WebSocket connection. ``endpoint.build_dispatcher`` wires them to ``Services``.
Nothing here imports Flask: the HTTP and WebSocket views in ``api`` are thin adapters.
"""
