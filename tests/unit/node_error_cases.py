"""Real node error messages and the class each must get.

One row per message of the node-error reference (every section, every client), with the
variable parts filled in with realistic values; some messages appear in several variants.
Rows are ``(client, message, json_rpc_code, expected_class)``; the code is the one the client
sends (``None`` where it is not known or does not matter). Expected classes are plain strings
so the tables stay pure data. They are split by what the pipeline does with a class:
``node_errors_acted_on`` (retried, bumped, checked), ``node_errors_rejected`` (the
transaction fails before it runs) and ``node_errors_reverts`` (it ran and failed).
"""

from __future__ import annotations

from tests.unit.node_errors_acted_on import ACTED_ON
from tests.unit.node_errors_rejected import REJECTED
from tests.unit.node_errors_reverts import REVERTS

CASES: list[tuple[str, str, int | None, str]] = ACTED_ON + REJECTED + REVERTS
