"""`returntrace audit`: the auditor's checks from a chain node and the deployment manifest alone
(returntrace/audit.py; docs/auditors.md). No gateway, no database, no brownie: this module imports
nothing of api/ (tests/api/test_auditor_cli.py checks it).

    returntrace audit --rpc URL --manifest deployments/31337.json integrity [--json] [--evidence-dir DIR]
    returntrace audit --rpc URL --manifest deployments/31337.json history GTIN SERIAL [--json]

Its exit codes are its own (EXIT_CODES): bad arguments are 3 here, since 2 means evidence missing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from .. import gs1, logs
from ..audit import (
    AUDITOR_RPC,
    EXIT_CANNOT_RUN,
    EXIT_CODES,
    EXIT_MISMATCH,
    EXIT_OK,
    AuditError,
    connect,
    exit_code,
    integrity,
    unit_history,
)

EPILOG = "\b\n" + EXIT_CODES  # \b: click keeps the lines as they are


def _cannot_run(exc: click.UsageError) -> click.UsageError:
    exc.exit_code = EXIT_CANNOT_RUN  # type: ignore[misc]  # click declares it on the class
    return exc


class _AuditCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _cannot_run(exc) from None


class _AuditGroup(click.Group):
    """Usage errors exit with EXIT_CANNOT_RUN, in the group and its commands."""

    command_class = _AuditCommand

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _cannot_run(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _cannot_run(exc) from None


def _print_integrity(report: dict[str, Any]) -> None:
    u = report["units"]
    p = report["parcels"]
    click.echo(
        f"Integrity at block {report['block']}: {u['total']} units, {report['events']} events; {u['verified']} "
        f"verified, {u['mismatched']} mismatched"
    )
    click.echo(f"Parcels: {p['total']}; {p['verified']} verified, {p['mismatched']} mismatched")
    for m in report["mismatches"]:
        name = f"parcel SSCC {m['sscc']}" if "sscc" in m else f"GTIN {m['gtin']} serial {m['serial']}"
        click.echo(f"  MISMATCH {m['unitId']} ({name}): {m['reason']}")
    e = report["evidence"]
    if e["checked"]:
        click.echo(
            f"Evidence: {e['referenced']} files referenced, {e['present']} present and matching, {e['missing']} "
            f"missing, {e['corrupt']} corrupt"
        )
        for problem in e["problems"]:
            where = "; ".join(
                f"unit {r['unitId']} event {r['seq']}"
                if "unitId" in r
                else f"order {r['orderId']} {r['event']} (tx {r['txHash']})"
                for r in problem["references"]
            )
            click.echo(f"  {problem['status'].upper()} {problem['cid'] or problem['digest']}: referenced by {where}")
    else:
        click.echo(f"Evidence: {e['referenced']} files referenced, not checked ({e['reason']})")


def _print_history(h: dict[str, Any]) -> None:
    click.echo(f"Unit {h['unitId']}  GTIN {h['gtin']}  serial {h['serial']}  brand {h['brand']}")
    for e in h["timeline"]:
        when = datetime.fromtimestamp(e["event_time"], tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        extra = "".join(
            f"  {k} {v}"
            for k, v in (
                ("disposition", e["disposition"]),
                ("evidence", e["evidence"]),
                ("bizTransaction", e["biz_transaction"]),
            )
            if v
        )
        if e["parcel"]:
            extra += f"  {'via parcel' if e['via_parcel'] else 'parcel'} SSCC {e['parcel']}"
        click.echo(
            f"  {e['seq']:>3}  {when}  {e['label']:<26} {e['signer_role']:<10} {e['signer']}  GLN {e['location']} "
            f" block {e['block']}{extra}"
        )
    if h["verified"]:
        click.echo(f"VERIFIED at block {h['block']}: {h['onchainCount']} events, record {h['onchainRecord']}")
    else:
        click.echo(f"NOT VERIFIED at block {h['block']}: {h['reason']}")


@click.group(cls=_AuditGroup, epilog=EPILOG)
@click.option("--rpc", required=True, help="JSON-RPC URL of a node of the chain")
@click.option("--manifest", required=True, help="deployment manifest (deployments/<chain id>.json)")
@click.option("--block", type=int, default=None, help="check the state at this block (default: latest)")
@click.option("--step", type=int, default=5000, show_default=True, help="blocks per eth_getLogs request")
@click.option(
    "--timeout",
    type=float,
    default=AUDITOR_RPC.timeout,
    show_default=True,
    help="seconds a node may take to answer a call, not retried",
)
@click.pass_context
def audit(ctx: click.Context, rpc: str, manifest: str, block: int | None, step: int, timeout: float) -> None:
    """Check ReturnTrace's on-chain records from a node alone."""
    ctx.obj = {"rpc": rpc, "manifest": manifest, "block": block, "step": step, "timeout": timeout}


def _run(ctx: click.Context, work: Any) -> None:
    """Runs `work(contracts)`, which returns the exit code; a missing manifest or a silent node is 3."""
    o = ctx.obj
    try:
        code = work(connect(o["rpc"], o["manifest"], o["timeout"]))
    except AuditError as exc:
        click.echo(f"error: {exc}", err=True)
        code = EXIT_CANNOT_RUN
    except (OSError, ConnectionError, logs.RpcError) as exc:
        click.echo(f"error: the node at {o['rpc']} did not answer: {type(exc).__name__}: {exc}", err=True)
        code = EXIT_CANNOT_RUN
    ctx.exit(code)


@audit.command("integrity", epilog=EPILOG)
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--evidence-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="also check every evidence file the chain references (registry events, inspections, defect claims) "
    "in this evidence store folder",
)
@click.pass_context
def integrity_command(ctx: click.Context, as_json: bool, evidence_dir: Path | None) -> None:
    """Every unit's rebuilt hash chain against its on-chain record."""

    def work(contracts: Any) -> int:
        report = integrity(contracts, ctx.obj["block"], ctx.obj["step"], evidence_dir)
        click.echo(json.dumps(report, indent=2)) if as_json else _print_integrity(report)
        return exit_code(report)

    _run(ctx, work)


@audit.command("history", epilog=EPILOG)
@click.argument("gtin")
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def history_command(ctx: click.Context, gtin: str, serial: str, as_json: bool) -> None:
    """One unit's verified history."""

    def work(contracts: Any) -> int:
        try:
            h = unit_history(contracts.registry, contracts.first_block, gtin, serial, ctx.obj["block"])
        except gs1.GS1Error as exc:
            click.echo(f"error: {exc}", err=True)
            return EXIT_CANNOT_RUN
        if as_json:
            click.echo(json.dumps(h, indent=2))
        elif not h["timeline"] and h["onchainCount"] == 0:
            click.echo(
                f"Unknown unit: GTIN {h['gtin']} serial {h['serial']} was never commissioned (checked at block "
                f"{h['block']})"
            )
        else:
            _print_history(h)
        return EXIT_OK if h["verified"] else EXIT_MISMATCH

    _run(ctx, work)


def main(argv: list[str]) -> int:
    """`returntrace audit ARGV` in this process: its exit code (tests, and the deprecated
    `python -m scripts.audit`)."""
    from . import main as returntrace

    try:
        returntrace.main(["audit", *argv], prog_name="returntrace", standalone_mode=True)
    except SystemExit as done:
        return int(done.code or 0)
    return EXIT_OK
