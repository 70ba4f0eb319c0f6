"""The auditor's own check, from a chain node alone: no gateway, no database, no brownie
(`returntrace audit`, returntrace/cli/audit.py, prints what these return).

`integrity` lists every unit (and, apart, every parcel by its SSCC) from the registry's logs, rebuilds each hash
chain from its logs and compares it with `unitRecord(unit)` read at one block (default the latest); it is the same
report as the gateway's `GET /v1/audit/integrity`. With an evidence folder it also checks every evidence file the
chain references — in the registry's events, every inspection attestation and every defect claim — against the
CID its digest names, and lists each one it could not find. `unit_history` is one unit's verified history, step
by step, as the consumer page's timeline shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import gs1, hashchain, history, logs
from .evidence_files import EvidenceFolder, EvidenceNames, evidence_report
from .manifest import Manifest, ManifestError
from .rpc import AUDITOR_RPC, RpcProfile

EXIT_CODES = """exit status:
  0  all verified (and, with --evidence-dir, every referenced evidence file present and intact)
  1  a unit's or parcel's chain does not match its on-chain record, an evidence file is corrupt,
     or (history) the unit is unknown
  2  evidence files are missing, and nothing mismatched
  3  the audit could not run: bad arguments, no manifest, or no answer from the node"""
EXIT_OK, EXIT_MISMATCH, EXIT_EVIDENCE_MISSING, EXIT_CANNOT_RUN = 0, 1, 2, 3


class AuditError(Exception):
    """The auditor could not run: no manifest, no node."""


@dataclass(frozen=True)
class Contracts:
    """The deployment an audit reads, from its manifest: web3 contracts and the first block of their logs."""

    registry: Any
    escrow: Any | None  # ReturnEscrow and ReissueDesk: the evidence their logs reference (inspections, defect claims)
    desk: Any | None
    first_block: int


def connect(rpc_url: str, manifest_path: str | Path, timeout: float = AUDITOR_RPC.timeout) -> Contracts:
    """The deployment's contracts as web3 contracts on the node at `rpc_url`, from the deployment manifest.
    A node that does not answer a call within `timeout` seconds is given up on (no retries: exit 3)."""
    try:
        manifest = Manifest.load(manifest_path)  # any schema: the auditor reads v1's registries too
        manifest.entry("TraceRegistry")
    except ManifestError as exc:
        raise AuditError(str(exc)) from exc
    w3 = RpcProfile(timeout).web3(rpc_url)

    def contract(name: str) -> Any:
        entry = manifest.contracts.get(name)
        return w3.eth.contract(address=entry.address, abi=entry.abi) if entry else None

    return Contracts(
        contract("TraceRegistry"), contract("ReturnEscrow"), contract("ReissueDesk"), manifest.deployment_block
    )


def _block(registry: Any, block: int | None) -> int:
    return int(registry.w3.eth.block_number) if block is None else block


def integrity(
    contracts: Contracts, block: int | None = None, step: int = 5000, evidence_dir: Path | None = None
) -> dict[str, Any]:
    """The integrity report (returntrace.history.integrity_report) at `block`, with the evidence."""
    registry, first_block = contracts.registry, contracts.first_block
    at = _block(registry, block)
    units, _ = history.collect(registry, first_block, at, step)
    onchain = history.read_records(registry, list(units), at)
    checks, parcels, events = [], [], 0
    for unit_id, records in units.items():
        commission = next((r for r in records if r.kind == "commission"), None)
        chain = history.chain_records(records)
        events += len(records)
        if (
            commission is None
            and records
            and records[0].kind == "aggregation"
            and records[0].unit_id == records[0].parcel_id
        ):
            # A parcel's chain (created by its first ADD): listed apart, by its SSCC.
            parcels.append(
                history.UnitCheck(unit_id, "", "", chain[-1], onchain.get(unit_id, 0), sscc=f"{records[0].sscc:018d}")
            )
            continue
        checks.append(
            history.UnitCheck(
                unit_id,
                f"{commission.gtin:014d}" if commission else "",
                (commission.serial or "") if commission else "",
                chain[-1] if chain else 0,
                onchain.get(unit_id, 0),
            )
        )
    report = history.integrity_report(at, checks, events, parcels)
    report["evidence"] = _evidence(evidence_references(contracts, units, at, step), evidence_dir)
    return report


def evidence_references(
    contracts: Contracts, units: dict[bytes, list[history.LifecycleRecord]], to_block: int, step: int = 5000
) -> list[dict[str, Any]]:
    """Every evidence digest the chain references, with where, as the gateway's index lists them:
    the registry's events (unit, seq) and every escrow and reissue-desk log with an `evidence`
    argument (each inspection attestation, each defect claim)."""
    out: dict[str, dict[str, Any]] = {}

    def add(digest: bytes, reference: dict[str, Any]) -> None:
        if bytes(digest) != history.ZERO32:
            key = "0x" + bytes(digest).hex()
            out.setdefault(key, {"digest": key, "references": []})["references"].append(reference)

    located = []
    for unit_id, records in units.items():
        located += [
            ((r.block, r.log_index), r.evidence, {"unitId": "0x" + unit_id.hex(), "seq": seq})
            for seq, r in enumerate(records, 1)
        ]
    others = {c.address: c.abi for c in (contracts.escrow, contracts.desk) if c is not None}
    if others:
        decoder = logs.LogDecoder(others)
        w3 = contracts.registry.w3
        for _, _, raw in logs.iter_ranges(w3, list(others), contracts.first_block, to_block, step):
            for e in logs.decoded(decoder, raw):
                if "evidence" in e.args:
                    order = int(e.args["orderId"]) if "orderId" in e.args else None
                    located.append(
                        (
                            (e.block, e.log_index),
                            e.args["evidence"],
                            {"orderId": order, "event": e.name, "block": e.block, "txHash": e.tx_hash},
                        )
                    )
    for _, digest, reference in sorted(located, key=lambda item: item[0]):
        add(digest, reference)
    return list(out.values())


def _evidence(digests: list[dict[str, Any]], evidence_dir: Path | None) -> dict[str, Any]:
    if evidence_dir is None:
        return evidence_report(None, digests, "no evidence store given (--evidence-dir)")
    return evidence_report(EvidenceNames(EvidenceFolder(evidence_dir)), digests)


def exit_code(report: dict[str, Any]) -> int:
    """EXIT_CODES for an integrity report."""
    e = report["evidence"]
    if report["units"]["mismatched"] or report["parcels"]["mismatched"] or (e["checked"] and e["corrupt"]):
        return EXIT_MISMATCH
    if e["checked"] and e["missing"]:
        return EXIT_EVIDENCE_MISSING
    return EXIT_OK


def unit_history(registry: Any, first_block: int, gtin: str, serial: str, block: int | None = None) -> dict[str, Any]:
    """One unit's history from its logs, verified against its on-chain record at `block`: its own
    events and the scans of the parcels it travelled in while it was packed (each verified against
    its parcel's record)."""
    gtin14 = gs1.normalize_gtin(gtin)
    unit_id = gs1.unit_id(gtin14, serial)
    at = _block(registry, block)
    h = history.fetch(registry, unit_id, first_block, at)
    roles = history.roles_over_time(registry, first_block, at)
    reason = history.mismatch_reason(h.rebuilt_record, h.onchain_record, at)
    for p in h.parcels.values():
        parcel_reason = history.mismatch_reason(p.rebuilt_record, p.onchain_record, at)
        if reason is None and parcel_reason is not None:
            reason = f"parcel {p.sscc:018d}: {parcel_reason}" if p.sscc is not None else parcel_reason
    seq = {(r.unit_id, r.position): i for i, r in enumerate(h.events, 1)}
    for p in h.parcels.values():
        seq.update({(r.unit_id, r.position): i for i, r in enumerate(p.events, 1)})
    brand = next((r.signer for r in h.events if r.kind == "commission"), None)
    return {
        "unitId": "0x" + unit_id.hex(),
        "gtin": gtin14,
        "serial": serial,
        "brand": brand,
        "block": at,
        "verified": reason is None,
        "reason": reason,
        "onchainCount": hashchain.count_of(h.onchain_record),
        "rebuiltCount": hashchain.count_of(h.rebuilt_record),
        "onchainRecord": hashchain.to_hex(h.onchain_record),
        "rebuiltRecord": hashchain.to_hex(h.rebuilt_record),
        "closed": hashchain.is_closed(h.onchain_record),
        "timeline": [
            history.timeline_entry(
                r,
                seq[(r.unit_id, r.position)],
                roles.at(r.signer, r.block, r.log_index),
                h.parcels[r.unit_id].sscc if r.unit_id != unit_id else None,
            )
            for r in h.timeline()
        ],
        "parcels": [
            {
                "sscc": f"{p.sscc:018d}" if p.sscc is not None else None,
                "parcelId": "0x" + p.parcel_id.hex(),
                "verified": p.chain_verified,
                "onchainRecord": hashchain.to_hex(p.onchain_record),
                "rebuiltRecord": hashchain.to_hex(p.rebuilt_record),
            }
            for p in h.parcels.values()
        ],
    }
