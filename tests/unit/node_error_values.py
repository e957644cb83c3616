"""Values the node-error tables fill into real messages' variable parts."""

from __future__ import annotations

ADDR = "0x71C7656EC7ab88b098defB751B7401B5f6d8976F"
ADDR_LC = ADDR.lower()
HASH = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
ALCHEMY_CU = (
    "Your app has exceeded its compute units per second capacity. If you have retries "
    "enabled, you can safely ignore this message. If not, check out "
)
