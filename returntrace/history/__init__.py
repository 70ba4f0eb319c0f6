"""A unit's history rebuilt from TraceRegistry logs alone, checked against its on-chain record.

Needs nothing but a JSON-RPC node and the registry's ABI: no database, no gateway.

Units travel in SSCC parcels. A parcel has a chain of its own (its id is a unit id): each
aggregation (ADD/DELETE) is one link in the parcel's chain and in each unit's, and lifecycle
events recorded on the parcel are links of the parcel's chain only. A unit's history is its own
chain plus the parcel's events recorded while it was packed (between its ADD and DELETE links),
each verified against the head of the chain it belongs to.

One module per concern; everything is importable from `returntrace.history`:
    records    a link as its log states it, and the chain rebuilt from links
    parcels    when a unit was packed, and the parcel's events while it was; a parcel's content
    timeline   the steps as the page and the auditor show them
    state      unitRecord / parentOf / parcelSize of many ids at one block, batched
    verify     rebuilt against on-chain: mismatch reasons, the integrity report, Unit/ParcelHistory
    from_logs  histories fetched from a node alone (eth_getLogs plus the state at one block)
"""

from __future__ import annotations

from .from_logs import (
    chains_of,
    collect,
    fetch,
    fetch_parcel,
    parcel_history,
    parcel_records,
    roles_over_time,
    unit_ids,
)
from .parcels import merged_timeline, parcel_contents, parcel_windows, via_parcels
from .records import ZERO32, LifecycleRecord, RecordReader, chain_records, from_log, lifecycle_struct_hash
from .state import read_parcel_sizes, read_parents, read_records, read_words
from .timeline import Roles, timeline_entry
from .verify import ParcelHistory, UnitCheck, UnitHistory, integrity_report, mismatch_reason, parcel_history_of

__all__ = [
    "ZERO32",
    "LifecycleRecord",
    "ParcelHistory",
    "RecordReader",
    "Roles",
    "UnitCheck",
    "UnitHistory",
    "chain_records",
    "chains_of",
    "collect",
    "fetch",
    "fetch_parcel",
    "from_log",
    "integrity_report",
    "lifecycle_struct_hash",
    "merged_timeline",
    "mismatch_reason",
    "parcel_contents",
    "parcel_history",
    "parcel_history_of",
    "parcel_records",
    "parcel_windows",
    "read_parcel_sizes",
    "read_parents",
    "read_records",
    "read_words",
    "roles_over_time",
    "timeline_entry",
    "unit_ids",
    "via_parcels",
]
