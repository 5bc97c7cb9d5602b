"""Compact echoes (protocol addition, docs/sync-protocol.md "Compact echoes"): a phone that
sends `"echo": "compact"` gets, for a resident last written by one of its own mutations of
the same request, only what it cannot know, instead of the whole record it just sent.

The rule is a diff against the mutation's own args, so it holds whatever else changed the
row: a field is left out only when its value in the full record equals, as JSON, the value
the phone sent for it in mutation `echo_of`. The phone rebuilds the full record as
`{...base(args of echo_of), ...entry}` (without `echo_of`); every other field, changed by the
server, by a later mutation or by someone else, travels in the entry.
"""
from __future__ import annotations

from typing import Any, Callable

ECHO_COMPACT = "compact"

# Mutation name → the flat part of its args that names resident fields (the "base").
# Pipeline steps are not here: their args do not map onto the record's fields one to one.
_BASES: dict[str, Callable[[dict], Any]] = {
    "register_resident": lambda args: args,
    "update_resident": lambda args: args.get("fields"),
    "correct_identity": lambda args: args.get("fields"),
}


def echo_sources(mutations: list[dict], results: list[dict]) -> dict[str, tuple[int, dict]]:
    """resident id → (mutation id, base) of the last applied echoable mutation of the request.

    Only mutations applied by this request count: a duplicate or rejected one may not be
    what the row holds, and the phone keeps the args of each one it sent until answered."""
    applied = {r["id"] for r in results if r.get("status") == "applied"}
    sources: dict[str, tuple[int, dict]] = {}
    for mutation in sorted(mutations, key=lambda m: m["id"]):
        base_of = _BASES.get(mutation["name"])
        args = mutation["args"]
        if base_of is None or mutation["id"] not in applied or not isinstance(args, dict):
            continue
        base = base_of(args)
        rid = args.get("resident_id")
        if isinstance(base, dict) and isinstance(rid, str):
            sources[rid] = (mutation["id"], base)
    return sources


def compact_entry(full: dict[str, Any], mutation_id: int, base: dict) -> dict[str, Any] | None:
    """The compact form of `full` against `base`, or None when it cannot be rebuilt exactly
    (the base holds a key the record does not have, e.g. a newer phone's field)."""
    if any(key not in full for key in base):
        return None
    entry: dict[str, Any] = {"resident_id": full["resident_id"], "echo_of": mutation_id}
    for key, value in full.items():
        if key != "resident_id" and not (key in base and _same(base[key], value)):
            entry[key] = value
    return entry


def split_echoes(residents: list[dict], sources: dict[str, tuple[int, dict]]
                 ) -> tuple[list[dict], list[dict]]:
    """(full records, compact entries) of a pull page."""
    full: list[dict] = []
    echoes: list[dict] = []
    for record in residents:
        source = sources.get(record["resident_id"])
        entry = compact_entry(record, *source) if source else None
        if entry is None:
            full.append(record)
        else:
            echoes.append(entry)
    return full, echoes


def _same(sent: Any, value: Any) -> bool:
    # As JSON: True is not 1, and 1 is not 1.0 to a phone comparing strings.
    return type(sent) is type(value) and sent == value
