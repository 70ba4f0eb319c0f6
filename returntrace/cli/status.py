"""`returntrace status MESSAGE-ID` and `returntrace status GTIN SERIAL`: the gateway's answer on a
signed message (GET /v1/messages/{id}) or a unit's verified view (its Digital Link's JSON).

Exit status: 0 a message confirmed or still on its way, a unit whose history is verified; 1 a message
that failed, an unknown message or unit, a history that does not verify; 3 no answer from the gateway.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ..barcode import BarcodeError, parse
from .errors import EXIT_OK, EXIT_REFUSED
from .gateway_client import GatewayClient, Refused


def _when(seconds: float | None) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ") if seconds else ""


def _message(client: GatewayClient, message_id: str, as_json: bool, console: Console) -> int:
    m = client.message(message_id)
    if as_json:
        click.echo(json.dumps(m, indent=2))
    else:
        table = Table("field", "value", title=f"message {m['id']}", show_header=False)
        for label, value in (
            ("kind", m["kind"]),
            ("signer", m["signer"]),
            ("nonce", m["nonce"]),
            ("items", m["items"]),
            ("status", m["status"]),
            ("transaction", m.get("txHash") or ""),
            ("block", m.get("block") or ""),
            ("error", m.get("error") or ""),
            ("accepted", _when(m.get("acceptedAt"))),
            ("updated", _when(m.get("updatedAt"))),
        ):
            table.add_row(label, str(value))
        console.print(table)
    return EXIT_REFUSED if m["status"] == "failed" else EXIT_OK


def _unit(client: GatewayClient, gtin: str, serial: str, as_json: bool, console: Console) -> int:
    try:
        scanned = parse(f"(01){gtin}(21){serial}")
    except BarcodeError as exc:
        raise click.BadParameter(str(exc), param_hint="GTIN SERIAL") from None
    view: dict[str, Any] = client.unit(scanned.gtin, scanned.serial)
    v = view["verification"]
    if as_json:
        click.echo(json.dumps(view, indent=2))
    else:
        verdict = "VERIFIED" if v["verified"] else f"NOT VERIFIED: {v['reason']}"
        console.print(
            f"Unit {view['unitId']}  GTIN {view['gtin']}  serial {view['serial']}  brand {view['brand']}\n"
            f"{verdict} at block {v['block']}: {v['onchainCount']} events on-chain"
            + ("; closed" if view.get("closed") else "")
        )
        table = Table("#", "time", "step", "disposition", "signer", "GLN", "block")
        for e in view["timeline"]:
            table.add_row(
                str(e["seq"]),
                _when(e["eventTime"]),
                e["label"],
                e.get("disposition") or "",
                f"{e['signerRole']} {e['signer']}",
                e["location"],
                str(e["block"]),
            )
        console.print(table)
    return EXIT_OK if v["verified"] else EXIT_REFUSED


@click.command()
@click.argument("what", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="print the gateway's JSON")
@click.pass_obj
def status(ctx: Any, what: tuple[str, ...], as_json: bool) -> None:
    """A message's state (MESSAGE-ID, 0x + 64 hex digits) or a unit's verified history (GTIN SERIAL)."""
    client: GatewayClient = ctx.gateway()
    console = Console(width=200)
    try:
        if len(what) == 1 and what[0].startswith("0x"):
            code = _message(client, what[0], as_json, console)
        elif len(what) == 2:
            code = _unit(client, what[0], what[1], as_json, console)
        else:
            raise click.UsageError("give a MESSAGE-ID (0x...) or a GTIN and a SERIAL")
    except Refused as exc:
        click.echo(f"Error: {exc.detail} ({exc.code})", err=True)
        code = EXIT_REFUSED
    raise SystemExit(code)
