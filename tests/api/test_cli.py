"""The `returntrace` command end to end: the installed script, a served gateway, the test chain.

Keys: created with a prompted passphrase, imported from stdin, listed; a wrong passphrase stops a
scan before anything is read from the gateway or journalled.

Mixed barcode forms are read; malformed barcodes, wrong check digits, unknown AIs and unknown units
are refused with their reasons and never signed; a file with too many refusals stops before
anything is signed; the accepted rows are followed until the chain confirms them.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from pathlib import Path

from brownie import chain, web3

from returntrace import gs1, hashchain, history
from scripts.gateway import wait_until
from tests.api.cli_support import Cli, live_gateway, live_relay, summary  # noqa: F401 - fixtures
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

    # A unit commissioned already passes the local checks; the gateway refuses the session naming it
    # (units[0]: unit_exists): that row is refused with the reason, the session void, and the other
    # row signed again under the same nonce and recorded.
    again = tmp_path / "again.csv"
    again.write_text(f"barcode\n(01){GTIN}(21)CLI-A\n(01){GTIN}(21)CLI-F\n")
    brand_nonce = _nonce(http, actors["brand"].address, "CommissionBatch")
    r = cli.scan(
        again,
        "--key",
        "brand",
        "--step",
        "commissioning",
        "--location",
        str(actors["brand"].gln),
    )
    assert r.returncode == 1, r.stderr
    s = summary(r)
    assert (s["signed"], s["confirmed"], [e["line"] for e in s["refused"]]) == (1, 1, [2])
    assert s["refused"][0]["reason"].startswith("unit_exists: ")
    with sqlite3.connect(tmp_path / "again.csv.journal.sqlite3") as db:
        journalled = db.execute("SELECT nonce, state, lines FROM sessions ORDER BY seq").fetchall()
    assert journalled == [(str(brand_nonce), "void", "[2, 3]"), (str(brand_nonce), "confirmed", "[3]")]
    assert [_count(registry, GTIN, x) for x in ("CLI-A", "CLI-F")] == [1, 1]

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
    assert not list(tmp_path.glob("shipping.csv.journal.sqlite3*"))  # a stopped run leaves no journal behind

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

    # returntrace status: the session's message, a unit's verified history, an unknown unit.
    shown = cli.run("status", s["messages"][0], "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "confirmed" and json.loads(shown.stdout)["items"] == 3
    view = f"/01/{GTIN}/21/CLI-B"
    accept = {"Accept": "application/json"}
    wait_until(lambda: http.get(view, headers=accept).json()["verification"]["verified"], 30, "the indexer")
    unit = cli.run("status", GTIN, "CLI-B")
    assert unit.returncode == 0, unit.stderr
    assert "VERIFIED" in unit.stdout and "2 events on-chain" in unit.stdout
    unknown = cli.run("status", GTIN, "NEVER-MADE")
    assert unknown.returncode == 1 and "unknown_unit" in unknown.stderr


def test_keys_new_import_list_and_a_wrong_passphrase_changes_nothing(live_gateway, actors, tmp_path):  # noqa: F811
    url, http = live_gateway
    cli = Cli(tmp_path, url)
    made = cli.run("keys", "new", "desk", input="s3cret\ns3cret\n")  # the hidden prompt, asked twice
    assert made.returncode == 0, made.stderr
    name, address, path = made.stdout.split()
    data = json.loads(Path(path).read_text())
    assert data["crypto"]["kdf"] == "scrypt" and data["crypto"]["kdfparams"]["n"] == 1024
    assert "s3cret" not in Path(path).read_text() and oct(Path(path).stat().st_mode)[-3:] == "600"
    mismatch = cli.run("keys", "new", "other", input="one\ntwo\none\none\n")
    assert mismatch.returncode == 0  # click asks again until both entries match
    imported = cli.run(
        "keys",
        "import",
        "carrier",
        "--key-file",
        "-",
        "--passphrase-file",
        str(cli.passphrase_file),
        input="0x" + actors["carrier"].key.hex() + "\n",
    )
    assert imported.returncode == 0 and imported.stdout.split()[1] == actors["carrier"].address
    twice = cli.run("keys", "import", "carrier", "--key-file", "-", input="00" * 32 + "\n")
    assert twice.returncode == 3 and "exists already" in twice.stderr
    listed = cli.run("keys", "list")
    assert listed.returncode == 0
    assert address in listed.stdout and actors["carrier"].address in listed.stdout and "other" in listed.stdout

    scans = tmp_path / "one.csv"
    scans.write_text(f"barcode\n(01){GTIN}(21)NO-SUCH\n")
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    before = _nonce(http, actors["carrier"].address, "EventBatch")
    r = cli.run(
        "scan",
        str(scans),
        "--key",
        "carrier",
        "--passphrase-file",
        str(wrong),
        "--step",
        "shipping",
        "--disposition",
        "in_transit",
        "--location",
        str(actors["carrier"].gln),
    )
    assert r.returncode == 3
    assert "wrong passphrase for the keystore" in r.stderr
    assert not (tmp_path / "one.csv.journal.sqlite3").exists()
    assert _nonce(http, actors["carrier"].address, "EventBatch") == before


def test_a_module_that_runs_late_in_the_suite_still_has_its_rows_taken(live_relay, actors, tmp_path):  # noqa: F811
    """After a snapshot revert anvil's clock restarts at the snapshot's block, so a module that starts ten
    minutes into the suite finds the chain ten minutes behind the wall. The command dates rows by the wall
    (as an operator's does), and the gateway refused them beyond the registry's 5-minute skew
    (invalid_event_time): the scan test failed whenever it ran late. Cli puts the chain at the wall's time."""
    url, _ = live_relay
    web3.provider.make_request("evm_setTime", [int(time.time()) - 600])
    chain.mine()
    assert int(time.time()) - web3.eth.get_block("latest").timestamp >= 600  # as late in the suite
    cli = Cli(tmp_path, url)
    cli.import_key("brand", actors["brand"].key)
    rows = tmp_path / "late.csv"
    rows.write_text(f"barcode\n(01){GTIN}(21)LATE-1\n")
    r = cli.scan(rows, "--key", "brand", "--step", "commissioning", "--location", str(actors["brand"].gln))
    assert r.returncode == 0, r.stderr
    s = summary(r)
    assert (s["rows"], s["confirmed"], s["refused"]) == (1, 1, [])


ROWS = 10_000


def test_an_interrupted_scan_of_10000_rows_resumes_signing_and_recording_each_row_once(
    live_relay,  # noqa: F811
    actors,
    registry,
    tmp_path,
):
    """Killed (SIGKILL) right after its third session was journalled and before it was posted, then
    again right after a session was posted and before the journal knew: the third run finishes.
    Every row is in exactly one signed session, and every unit has exactly one event on-chain."""
    url, _ = live_relay
    cli = Cli(tmp_path, url)
    cli.import_key("brand", actors["brand"].key)
    serials = [f"RES-{i:05d}" for i in range(ROWS)]
    scans = tmp_path / "commissioning.csv"
    scans.write_text("barcode\n" + "".join(f"(01){GTIN}(21){s}\n" for s in serials))
    first_block = web3.eth.block_number
    args = ("--key", "brand", "--step", "commissioning", "--location", str(actors["brand"].gln))
    started = time.monotonic()

    killed = cli.scan(scans, *args, env={"RETURNTRACE_TEST_KILL_AT": "journalled:3"})
    assert killed.returncode == -9, killed.stderr
    journal = tmp_path / "commissioning.csv.journal.sqlite3"
    assert _states(journal) == ["accepted", "accepted", "signed"]
    killed = cli.scan(scans, *args, env={"RETURNTRACE_TEST_KILL_AT": "posted:4"})
    assert killed.returncode == -9, killed.stderr
    assert _states(journal)[-1] == "signed" and len(_states(journal)) == 6  # session 6 posted, not yet marked
    done = cli.scan(scans, *args)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    s = summary(done)
    assert (s["rows"], s["signed"], s["confirmed"], s["sessions"], s["refused"]) == (ROWS, ROWS, ROWS, ROWS // 500, [])

    with sqlite3.connect(journal) as db:
        sessions = db.execute("SELECT id, state, lines FROM sessions ORDER BY seq").fetchall()
    assert {state for _, state, _ in sessions} == {"confirmed"}
    signed_lines = [n for _, _, lines in sessions for n in json.loads(lines)]
    assert sorted(signed_lines) == list(range(2, ROWS + 2))  # each data line signed once
    assert len({mid for mid, _, _ in sessions}) == len(sessions)

    contract = web3.eth.contract(address=registry.address, abi=registry.abi)
    units, _ = history.collect(contract, first_block, web3.eth.block_number)
    ours = {gs1.unit_id(GTIN, s) for s in serials}
    assert {u: len(units.get(u, [])) for u in ours} == dict.fromkeys(ours, 1)  # recorded once each
    assert _count(registry, GTIN, serials[-1]) == 1
    print(f"10,000-row scan, interrupted twice and resumed: {elapsed:.1f} s")


def _states(journal: Path) -> list[str]:
    with sqlite3.connect(journal) as db:
        return [state for (state,) in db.execute("SELECT state FROM sessions ORDER BY seq")]
