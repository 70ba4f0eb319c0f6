"""`returntrace inspect GTIN SERIAL`: grade a returned unit from the command line (issue 12 §1, §2).

    returntrace inspect 09506000134352 SN-1 --key inspector [--facts seal_intact,packaging_intact]
        [--diminished-value BASE_UNITS] [--photo FILE ...] [--passphrase-file FILE] [--yes]

What the inspection station page does, for a terminal: sign in to the gateway with the key (Sign-In
with Ethereum), the facts checklist (asked one by one unless --facts gives them), the grade the
contract derives and what the buyer and the merchant get (GET /v1/inspection-preview: the escrow's own
quote) shown BEFORE anything is signed, and a confirmation; then the photos are stored as evidence
(their CIDs shown), with the inspection's evidence record naming them (the page's record, byte for
byte: docs/operators.md), and the INSPECTING scan and the Inspection attestation the preview
prefilled are signed with the key and posted, and followed until the chain has both and the order's
new state is indexed. Declining, or any refusal before signing, changes nothing.

Exit codes: 0 recorded; 1 declined, refused or failed on-chain; 3 cannot run (gateway, keystore).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from .. import eip712, siwe
from ..escrow import Facts
from . import keystore
from .errors import EXIT_REFUSED, CliError
from .gateway_client import GatewayClient, Refused
from .keys import PASSPHRASE_FILE

PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
CHECKLIST = (
    ("seal_intact", "Is the seal intact?"),
    ("packaging_intact", "Is the original packaging intact?"),
    ("used", "Was the unit used?"),
    ("defective", "Is the unit defective?"),
)
THEN = {
    "settles": "signing settles the order at once",
    "buyer_may_contest": "the buyer may contest this grade within the dispute window; then it settles",
    "second_opinion": "a second opinion: it settles if it agrees with the first, else the arbiter decides",
    "disposition_only": "refunded already: this inspection decides what happens to the unit",
}


def _facts_bits(given: str | None) -> int:
    """The facts from --facts (comma-separated names, "" for none), else the checklist, asked."""
    bits = {name: bit for bit, name in Facts.NAMES}
    if given is not None:
        names = [n.strip() for n in given.split(",") if n.strip()]
        unknown = [n for n in names if n not in bits]
        if unknown:
            raise click.BadParameter(f"unknown fact {', '.join(unknown)}; the facts are {', '.join(bits)}")
        return sum(bits[n] for n in set(names))
    return sum(bits[name] for name, question in CHECKLIST if click.confirm(question, default=False, err=True))


def _photos(paths: tuple[Path, ...]) -> list[tuple[Path, str]]:
    """Each photo with its content type; an unreadable or unsupported file stops before anything is sent."""
    out = []
    for path in paths:
        kind = PHOTO_TYPES.get(path.suffix.lower())
        if kind is None:
            raise CliError(f"{path}: a photo is a JPEG or PNG file (.jpg, .jpeg, .png)", EXIT_REFUSED)
        if not path.is_file():
            raise CliError(f"cannot read the photo {path}", EXIT_REFUSED)
        out.append((path, kind))
    return out


def _sign_in(client: GatewayClient, account: LocalAccount) -> None:
    """Sign-In with Ethereum with the key: the preview is for accredited inspectors and the order's parties.
    Through the command's client, for its refusals and timeouts (returntrace/siwe.py holds the steps)."""
    text = client.get(siwe.NONCE_PATH, address=account.address)["message"]
    _, session = client.post(siwe.SIGN_IN_PATH, {"message": text, "signature": siwe.signature(text, account.key)})
    client.http.headers.update(siwe.bearer(session["token"]))


def _amount(value: str, currency: str) -> str:
    if currency != "native":
        return f"{value} base units of {currency}"
    whole, frac = divmod(int(value), 10**18)
    return f"{whole}.{frac:018d}".rstrip("0").rstrip(".") + " ETH"


def _show(console: Console, p: dict[str, Any]) -> None:
    c = p["currency"]
    table = Table(
        title=f"Order {p['orderId']} ({p['status'].replace('_', ' ')}), block {p['block']['number']}",
        show_header=False,
    )
    table.add_row("facts", ", ".join(p["facts"]["names"]) or "none")
    table.add_row("grade", p["grade"])
    buyer = _amount(p["buyer"]["refund"], c)
    if p["buyer"]["points"] != "0":
        buyer += f" and store points worth {_amount(p['buyer']['points'], c)}"
    table.add_row("the buyer gets", buyer)
    table.add_row("the merchant gets", _amount(p["merchant"]["amount"], c))
    table.add_row("decided by", "the law (statutory withdrawal)" if p["statutory"] else "the policy's grade terms")
    table.add_row("then", THEN.get(p["then"], p["then"]))
    console.print(table)
    terms = Table("grade", "refund", "store points", "return shipping paid by", "then", title="The order's grade terms")
    for t in p["terms"]["byGrade"]:
        payer = "the merchant" if t["merchantPaysReturnShipping"] else "the buyer"
        terms.add_row(t["grade"], f"{t['refundBps'] / 100:g} %", f"{t['pointsBps'] / 100:g} %", payer, t["disposition"])
    console.print(terms)


def _upload(client: GatewayClient, name: str, content: bytes, kind: str) -> dict[str, Any]:
    return client.request("POST", "/v1/evidence", files={"file": (name, content, kind)})[1]


def _evidence(client: GatewayClient, console: Console, p: dict[str, Any], photos: list[tuple[Path, str]]) -> str:
    """Stores the photos and the inspection's evidence record (the station page's, byte for byte): its digest."""
    cids = []
    for path, kind in photos:
        stored = _upload(client, path.name, path.read_bytes(), kind)
        cids.append(stored["cid"])
        console.print(f"photo {path.name}: {stored['cid']}")
    record = {"orderId": str(p["orderId"]), "unitId": p["unitId"], "facts": p["facts"]["bits"], "photos": cids}
    stored = _upload(client, "inspection.json", json.dumps(record, separators=(",", ":")).encode(), "application/json")
    console.print(f"evidence of this inspection: {stored['cid']}")
    return str(stored["digest"])


def _signed(client: GatewayClient, account: LocalAccount, offered: dict[str, Any]) -> dict[str, Any]:
    """The body of a prefilled message signed with the key, under the domain the gateway publishes for
    its kind (GET /v1/eip712), after checking the message is the key's own."""
    kind, message = offered["kind"], offered["typedData"]["message"]
    signer = message[eip712.SIGNER_FIELD[kind]]
    if signer.lower() != account.address.lower():
        raise CliError(f"the gateway prefilled a {kind} for {signer}, not for this key ({account.address})")
    signature = client.domain(kind).sign(bytes(account.key), kind, message)
    return {**message, "signature": "0x" + bytes(signature).hex()}


def _follow(client: GatewayClient, console: Console, ids: dict[str, str], timeout: float) -> dict[str, Any]:
    """Polls each message until the chain has it or refused it: their last states."""
    states: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    with console.status("waiting for the blockchain…"):
        while len(states) < len(ids):
            for kind, message_id in ids.items():
                if kind not in states:
                    state = client.message(message_id)
                    if state["status"] in ("confirmed", "failed"):
                        states[kind] = state
            if len(states) < len(ids):
                if time.monotonic() > deadline:
                    raise CliError(f"not recorded within {timeout:g} s; follow with `returntrace status ID`: {ids}")
                time.sleep(0.5)
    return states


def _new_state(client: GatewayClient, gtin: str, serial: str, before: str, timeout: float) -> str | None:
    """The order's status once the gateway's index has moved past `before` (None: not within the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = (client.unit(gtin, serial).get("return_status") or {}).get("status")
        if status and status != before:
            return str(status)
        time.sleep(0.5)
    return None


@click.command("inspect")
@click.argument("gtin")
@click.argument("serial")
@click.option("--key", "key_name", required=True, help="the inspector's keystore: name, address or file")
@PASSPHRASE_FILE
@click.option("--facts", default=None, help="comma-separated: seal_intact, packaging_intact, used, defective")
@click.option("--diminished-value", type=click.IntRange(0, 2**96 - 1), default=0, help="base units (a used unit)")
@click.option("--photo", "photos", multiple=True, type=click.Path(path_type=Path), help="a JPEG or PNG; repeatable")
@click.option("--yes", is_flag=True, help="sign without asking, after showing the grade and the payouts")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="seconds to wait for the blockchain")
def inspect(
    gtin: str,
    serial: str,
    key_name: str,
    passphrase_file: Path | None,
    facts: str | None,
    diminished_value: int,
    photos: tuple[Path, ...],
    yes: bool,
    timeout: float,
) -> None:
    """Inspect the returned unit GTIN SERIAL: the facts, the photos, the grade and the payouts shown
    before signing, then the signed INSPECTING scan and Inspection attestation, followed to the chain."""
    root = click.get_current_context().find_root().obj
    console = Console(stderr=False, width=120)
    pictures = _photos(photos)
    account = keystore.load_account(
        keystore.resolve(root.keystore_dir, key_name), keystore.PassphraseSource(passphrase_file)
    )
    client = root.gateway()
    bits = _facts_bits(facts)
    query = {"gtin": gtin, "serial": serial, "facts": bits, "diminishedValue": diminished_value}
    try:
        _sign_in(client, account)
        shown = client.get("/v1/inspection-preview", **query)
        _show(console, shown)
        if shown["message"] is None:
            raise CliError(f"{account.address} is not an accredited inspector: it may preview, not sign", EXIT_REFUSED)
        if not yes and not click.confirm("Sign this inspection?", default=False, err=True):
            raise CliError("declined: nothing was uploaded, signed or sent", EXIT_REFUSED)
        evidence = _evidence(client, console, shown, pictures)
        fresh = client.get("/v1/inspection-preview", **query)  # the nonces and times of now, the same grade
        if (fresh["grade"], fresh["buyer"], fresh["merchant"]) != (shown["grade"], shown["buyer"], shown["merchant"]):
            raise CliError(
                "the order changed since the preview: nothing was signed; run the command again", EXIT_REFUSED
            )
        fresh["scan"]["typedData"]["message"]["events"][0]["evidence"] = evidence
        fresh["message"]["typedData"]["message"]["evidence"] = evidence
        ids = {}
        for offered in (fresh["scan"], fresh["message"]):  # the scan first: the attestation names its evidence
            _, accepted = client.post(offered["post"], _signed(client, account, offered))
            ids[offered["kind"]] = accepted["id"]
            console.print(f"{offered['kind']} accepted: {accepted['id']}")
    except Refused as exc:
        raise CliError(f"refused by the gateway ({exc.code}): {exc.detail}", EXIT_REFUSED) from None
    states = _follow(client, console, ids, timeout)
    failed = {k: s.get("error") for k, s in states.items() if s["status"] == "failed"}
    for kind, state in states.items():
        console.print(f"{kind}: {state['status']}" + (f" in block {state['block']}" if state.get("block") else ""))
    if failed:
        raise CliError(f"the blockchain refused: {failed}", EXIT_REFUSED)
    status = _new_state(client, gtin, serial, shown["status"], timeout)
    console.print(f"order {shown['orderId']} is now {status}" if status else "the index has not caught up yet")
