"""What the server keeps of a rejected mutation: a storable, capped copy of its args and fields.

A rejection is stored so that a re-sent mutation gets its code, message and fields again
(engine._duplicate_result) and so that what the officer typed can still be found on the
server. The phone keeps its own copy of the args, so a large or strange args object is kept
as a digest only. Whatever a phone sends, the stored row must be writable on both databases:
no NaN or infinity (PostgreSQL's JSON refuses them), no integer past 64 bits, no NUL or lone
surrogate, bounded nesting.
"""
from __future__ import annotations

import hashlib
import json
import math
from typing import Any

MAX_ARGS_BYTES = 4096  # args stored whole up to this size (JSON, UTF-8), else a digest
MAX_FIELDS_BYTES = 4096  # field messages kept, in order, up to this size
MIN_FIELDS_BYTES = 512  # ... or this much once the request's budget is spent
REQUEST_BUDGET_BYTES = 128 * 1024  # args + fields stored by the rejections of one request
MAX_KEY_CHARS = 100
MAX_MESSAGE_CHARS = 500
MAX_DEPTH = 32
_INT64 = 2**63


class RejectionStore:
    """Shapes the rejections of one request for storage within REQUEST_BUDGET_BYTES."""

    def __init__(self, budget: int = REQUEST_BUDGET_BYTES) -> None:
        self.left = budget

    def stored_form(self, args: Any, fields: dict[str, str] | None) -> tuple[Any, dict[str, str]]:
        """(args, fields) as stored: each JSON-safe; args whole when small enough, else
        {"truncated": True, "bytes": n, "sha256": hex}; fields trimmed to what fits."""
        safe_args = json_safe(args)
        text = _dumps(safe_args)  # ASCII: its length is its size in bytes
        size = len(text)
        if size > MAX_ARGS_BYTES or size > self.left:
            safe_args = {"truncated": True, "bytes": size,
                         "sha256": hashlib.sha256(text.encode("ascii")).hexdigest()}
            size = len(_dumps(safe_args))
        self.left -= size
        kept = _trimmed_fields(fields or {}, min(MAX_FIELDS_BYTES, max(MIN_FIELDS_BYTES, self.left)))
        self.left -= len(_dumps(kept))
        return safe_args, kept


def json_safe(value: Any, depth: int = 0) -> Any:
    """A copy of a decoded JSON value that both databases' JSON columns accept.

    Non-finite floats become the strings "NaN", "Infinity", "-Infinity"; integers outside
    64 bits become "<integer out of range>"; NUL and lone surrogates in strings (and keys)
    become U+FFFD; nesting beyond MAX_DEPTH becomes "<nested too deep>"; any other type
    becomes its (cleaned) str().
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else "<integer out of range>"
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return _clean_text(value)
    if depth >= MAX_DEPTH and isinstance(value, (dict, list, tuple)):
        return "<nested too deep>"
    if isinstance(value, dict):
        return {_clean_text(str(key)): json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item, depth + 1) for item in value]
    return _clean_text(str(value))


def _clean_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: each becomes U+FFFD
        text = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text.replace("\x00", "\ufffd")


def _dumps(value: Any) -> str:
    # As SQLAlchemy's JSON type writes it (json.dumps defaults), so sizes are stored sizes.
    return json.dumps(value, allow_nan=False)


def _trimmed_fields(fields: dict[str, str], limit: int) -> dict[str, str]:
    """Field messages in their order while they fit in `limit` bytes (keys and messages cut
    to MAX_KEY_CHARS / MAX_MESSAGE_CHARS)."""
    kept: dict[str, str] = {}
    used = 2  # "{}"
    for key, message in fields.items():
        key = _clean_text(str(key))[:MAX_KEY_CHARS]
        message = _clean_text(str(message))[:MAX_MESSAGE_CHARS]
        size = len(_dumps({key: message}))  # one entry and its ", " (its braces: 2 bytes)
        if used + size > limit:
            break
        kept[key] = message
        used += size
    return kept
