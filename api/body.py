"""Reading a request body as one JSON object, strictly.

A signing service must not guess what a client meant, so the body is refused unless it is
``application/json``, at most ``max_bytes`` long (413), UTF-8, and plain JSON:
``NaN``/``Infinity`` and duplicate object keys (``{"to": A, "to": B}``, which parsers
resolve differently) are rejected as ``invalid_json``.

The size limit needs care for bodies without ``Content-Length`` (chunked): werkzeug's cap
on such a stream stops reading at ``MAX_CONTENT_LENGTH`` and returns the bytes so far,
silently truncated. So the app sets ``MAX_CONTENT_LENGTH`` one byte above the real limit
(``app_max_content_length``) and this module refuses any body longer than the limit: a
truncated read is then always one byte too long, never mistaken for a whole body.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Request

from worker.domain.errors import KvsignerError, ValidationError

JSON_MEDIA_TYPE = "application/json"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """Decode ``raw`` as strict JSON; raises ``ValidationError('invalid_json')``."""
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                          parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # The parser's message can quote the body; a fixed message is enough to act on.
        raise ValidationError("invalid_json", "the body is not valid JSON") from None


def app_max_content_length(max_bytes: int) -> int:
    """The ``MAX_CONTENT_LENGTH`` to configure for a body limit of ``max_bytes``."""
    return max_bytes + 1


def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request's body as a JSON object.

    Raises ``KvsignerError('unsupported_media_type')`` (415) for another content type,
    ``KvsignerError('body_too_large')`` or werkzeug's ``RequestEntityTooLarge`` (both 413)
    past ``max_bytes``, and ``ValidationError('invalid_json')`` (400) for anything but one
    JSON object.
    """
    if request.mimetype != JSON_MEDIA_TYPE:
        raise KvsignerError("unsupported_media_type",
                            f"the body must be {JSON_MEDIA_TYPE}")
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.lower().replace("-", "") != "utf8":
        raise KvsignerError("unsupported_media_type", "JSON bodies must be UTF-8")
    raw = request.get_data(cache=False)
    if len(raw) > max_bytes:
        raise KvsignerError("body_too_large", f"the body exceeds {max_bytes} bytes")
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    return body
