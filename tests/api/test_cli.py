"""`returntrace scan` end to end: the installed command, a served gateway, the test chain.

Mixed barcode forms are read; malformed barcodes, wrong check digits, unknown AIs and unknown units
are refused with their reasons and never signed; a file with too many refusals stops before
anything is signed; the accepted rows are followed until the chain confirms them.
"""

from __future__ import annotations

import csv
import json

from brownie import web3

from returntrace import gs1, hashchain
from tests.api.cli_support import Cli, live_gateway, summary  # noqa: F401 - fixture
from tests.support import GTIN

GS = "\x1d"


def _count(registry, gtin: str, serial: str) -> int:
    return hashchain.count_of(registry.unitRecord(gs1.unit_id(gtin, serial)))


def _nonce(http, address: str, kind: str) -> int:
    return http.get(f"/v1/signers/{address}/nonce", params={"kind": kind}).json()["nextNonce"]


def test_scan_reads_every_form_refuses_bad_rows_with_reasons_and_confirms_the_rest(
    live_gateway,
    actors,
    registry,
    tmp_path,  # noqa: F811
):
    url, http = live_gateway
    cli = Cli(tmp_path, url)
    cli.import_key("brand", actors["brand"].key)
    carrier = cli.import_key("carrier", actors["carrier"].key)
    assert carrier == actors["carrier"].address

    # Three units commissioned by the brand from JSON lines, one per barcode form.
    commissions = tmp_path / "commission.jsonl"
    lines = [
        f"(01){GTIN}(21)CLI-A",
        {"barcode": f"]d201{GTIN}21CLI-B{GS}10LOT1"},  # FNC1 as GS, written \u001d in JSON
        {"barcode": f"https://id.example.com/01/{GTIN}/21/CLI-C?17=261231"},
    ]
    commissions.write_text("".join(json.dumps(x) + "\n" for x in lines))
    r = cli.scan(commissions, "--key", "brand", "--step", "commissioning", "--location", str(actors["brand"].gln))
    assert r.returncode == 0, r.stderr
    s = summary(r)
    assert (s["rows"], s["confirmed"], s["refused"]) == (3, 3, [])

    # The carrier's shipping scans: three good rows, four bad ones.
    wrong_check = GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10)
    scans = tmp_path / "shipping.csv"
    with scans.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["barcode", "disposition"])
        w.writerow([f"(01){GTIN}(21)CLI-A", "in_transit"])
        w.writerow([f"]C101{GTIN}21CLI-B", "in_transit"])
        w.writerow([f"http://127.0.0.1/01/{GTIN}/21/CLI-C", "in_transit"])
        w.writerow([f"(01){wrong_check}(21)CLI-D", "in_transit"])  # line 5
        w.writerow(["(01)12(21)X", "in_transit"])  # line 6: malformed
        w.writerow([f"(01){GTIN}(21)CLI-E(710)X", "in_transit"])  # line 7: an AI this reader does not know
        w.writerow([f"(01){GTIN}(21)NEVER-MADE", "in_transit"])  # line 8: unknown unit

    before = _nonce(http, carrier, "EventBatch")
    stopped = cli.scan(scans, "--key", "carrier", "--step", "shipping", "--location", str(actors["carrier"].gln))
    assert stopped.returncode == 1
    assert "nothing signed or posted" in stopped.stderr
    assert _nonce(http, carrier, "EventBatch") == before
    assert not (tmp_path / "shipping.csv.journal.sqlite3").exists() or _count(registry, GTIN, "CLI-A") == 1

    r = cli.scan(
        scans,
        "--key",
        "carrier",
        "--step",
        "shipping",
        "--location",
        str(actors["carrier"].gln),
        "--max-refusal-rate",
        "0.9",
    )
    assert r.returncode == 1, r.stderr  # refusals make the exit status
    s = summary(r)
    assert (s["rows"], s["signed"], s["confirmed"], s["sessions"]) == (7, 3, 3, 1)
    reasons = {e["line"]: e["reason"] for e in s["refused"]}
    assert set(reasons) == {5, 6, 7, 8}
    assert "wrong check digit" in reasons[5]
    assert "AI (01) takes 14 characters" in reasons[6]
    assert "unknown AI (710)" in reasons[7]
    assert "unknown_unit" in reasons[8]
    assert [_count(registry, GTIN, s) for s in ("CLI-A", "CLI-B", "CLI-C", "NEVER-MADE")] == [2, 2, 2, 0]
    assert _nonce(http, carrier, "EventBatch") == before + 1  # one session, the good rows only
    assert web3.eth.block_number > 0
