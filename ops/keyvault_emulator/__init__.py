"""A local Azure Key Vault (keys API subset) for tests and the dev stack.

It speaks HTTPS with its own CA, answers the bearer-token challenge and the Entra ID token
endpoint the way the Azure SDK expects, signs with secp256k1 keys like the service (random
nonces, high S about half the time), and can inject latency, throttling and server errors.
Run it with ``kvsigner keyvault-emulator --data-dir DIR``; control it at runtime with
``ops.keyvault_emulator.admin.EmulatorAdmin``.

Modules: cli (flags, start-up), server (HTTP/TLS plumbing), app (top-level routing and
auth gate), vault_api (keys API), admin_api (/_admin), render (JSON shapes), keystore
(keys and persistence), ecdsa (signing), auth (credentials, tokens), tls (CA and server
certificate), faults (latency, quota, injected errors), stats (counters), envfile
(emulator.env), files (atomic writes), errors and messages (shared types), admin (client).
"""
