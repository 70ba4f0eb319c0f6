"""Units in parcels, from chain positions alone: when a unit was packed, the parcel's events while it
was (they join the unit's history), and what a parcel holds after its aggregations."""

from __future__ import annotations

from ..vocab import AggregationAction
from .records import LifecycleRecord


def parcel_windows(
    records: list[LifecycleRecord], parcels: dict[bytes, list[LifecycleRecord]]
) -> list[tuple[int, int | None, list[LifecycleRecord]]]:
    """When the unit whose chain `records` is was packed, decided by chain positions only (what the
    hash chains prove, not where the logs say they are): for each stay in a parcel, the index of its
    ADD link in `records`, the index of its DELETE link (None while still packed), and the parcel's
    lifecycle events between the parcel's own links with the same struct hashes, in the parcel
    chain's order. A link the parcel's chain lacks leaves that stay without events (the parcel's
    chain then does not verify either)."""
    out: list[tuple[int, int | None, list[LifecycleRecord]]] = []
    open_stay: tuple[int, bytes, bytes] | None = None  # (index of the ADD link, parcel id, its struct hash)

    def close(end: int | None, end_hash: bytes | None) -> None:
        assert open_stay is not None  # called only while a stay is open
        start, parcel, start_hash = open_stay
        chain = parcels.get(parcel, [])
        hashes = [r.struct_hash() if r.kind == "aggregation" else None for r in chain]
        first = next((i for i, h in enumerate(hashes) if h == start_hash), None)
        last = (
            None
            if end_hash is None or first is None
            else next((i for i in range(first + 1, len(chain)) if hashes[i] == end_hash), None)
        )
        if first is None or (end_hash is not None and last is None):
            events: list[LifecycleRecord] = []
        else:
            events = [r for r in chain[first + 1 : last] if r.kind == "event"]
        out.append((start, end, events))

    for i, r in enumerate(records):
        if r.kind != "aggregation":
            continue
        if r.action == AggregationAction.ADD and r.parcel_id is not None:  # an aggregation always names its parcel
            open_stay = (i, r.parcel_id, r.struct_hash())
        elif r.action == AggregationAction.DELETE and open_stay is not None:
            close(i, r.struct_hash())
            open_stay = None
    if open_stay is not None:
        close(None, None)
    return out


def via_parcels(records: list[LifecycleRecord], parcels: dict[bytes, list[LifecycleRecord]]) -> list[LifecycleRecord]:
    """The parcels' lifecycle events recorded while the unit was packed in them, in chain order;
    each keeps its parcel's id as `unit_id` (the chain it belongs to)."""
    return [r for _, _, events in parcel_windows(records, parcels) for r in events]


def merged_timeline(
    records: list[LifecycleRecord], parcels: dict[bytes, list[LifecycleRecord]]
) -> list[LifecycleRecord]:
    """The unit's own links in its chain's order with each parcel stay's events after its ADD link,
    in the parcel chain's order. Only where the unit has own links inside a stay (scanned on its
    own while packed) do the log positions interleave the two chains, each keeping its own order."""
    out: list[LifecycleRecord] = []
    windows = {start: (end, events) for start, end, events in parcel_windows(records, parcels)}
    i = 0
    while i < len(records):
        out.append(records[i])
        if i not in windows:
            i += 1
            continue
        end, events = windows[i]
        stop = len(records) if end is None else end
        own = records[i + 1 : stop]
        out.extend(_merge_by_position(own, events))
        i = stop
    return out


def _merge_by_position(a: list[LifecycleRecord], b: list[LifecycleRecord]) -> list[LifecycleRecord]:
    """Two chains' links interleaved by log position, each list keeping its own order."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if b[j].position < a[i].position:
            out.append(b[j])
            j += 1
        else:
            out.append(a[i])
            i += 1
    return out + a[i:] + b[j:]


def parcel_contents(records: list[LifecycleRecord]) -> list[bytes]:
    """A parcel's units after its chain's aggregations, in packing order."""
    members: dict[bytes, None] = {}
    for r in records:
        if r.kind != "aggregation":
            continue
        for c in r.child_ids:
            if r.action == AggregationAction.ADD:
                members[c] = None
            else:
                members.pop(c, None)
    return list(members)
