"""`returntrace inspect` driven as installed (the console script of .venv/bin, this checkout's code first
on PYTHONPATH) against a served gateway with its relayer and indexer: the checklist asked, the grade and
payouts shown before signing, a refusal to sign, a wrong passphrase and an unknown unit change nothing;
confirmed, the photo is stored, the INSPECTING scan and the Inspection are signed with the keystore's
key, and the order settles at the grade the facts derive."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

from returntrace.escrow import Facts, Grade
from tests.api.test_return_flow_browser import flow_gateway  # noqa: F401
from tests.api.test_station_browser import returned_and_indexed
from tests.support import GTIN, Status

REPO = Path(__file__).resolve().parents[2]
SEALED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = shutil.which("returntrace", path=str(REPO / ".venv" / "bin"))
    assert command, "the returntrace command is not installed in .venv (make setup)"
    return subprocess.run([command, *args], input=stdin, capture_output=True, text=True, env=env, timeout=240)


def _nonces(http, address: str) -> tuple[int, int]:
    return tuple(  # type: ignore[return-value]
        http.get(f"/v1/signers/{address}/nonce", params={"kind": k}).json()["nextNonce"]
        for k in ("EventBatch", "Inspection")
    )


def test_inspect_shows_the_payout_before_signing_and_settles_the_order(flow_gateway, shop, escrow, actors, tmp_path):  # noqa: F811
    http, base, _ = flow_gateway
    inspector = actors["inspector"]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),  # this checkout's returntrace, whichever worktree installed the script
        "RETURNTRACE_GATEWAY": base,
        "RETURNTRACE_KEYSTORE_DIR": str(tmp_path / "keys"),
        "RETURNTRACE_TEST_SCRYPT_N": "1024",  # test-only: a cheap unlock
    }
    (tmp_path / "key").write_text(inspector.key.hex())
    (tmp_path / "pass").write_text("correct horse\n")
    (tmp_path / "wrong").write_text("wrong horse\n")
    made = _cli(
        env, "keys", "import", "insp", "--key-file", str(tmp_path / "key"), "--passphrase-file", str(tmp_path / "pass")
    )
    assert made.returncode == 0, made.stderr
    order_id = returned_and_indexed(http, shop, "CLI-INSPECT-1")
    photo = http.get(f"/01/{GTIN}/21/CLI-INSPECT-1/qr.png").content
    (tmp_path / "unit.png").write_bytes(photo)
    inspect = ["inspect", GTIN, "CLI-INSPECT-1", "--key", "insp", "--photo", str(tmp_path / "unit.png")]
    before = _nonces(http, inspector.address)

    # Bad input: a clear message and nothing changed.
    wrong = _cli(env, *inspect, "--passphrase-file", str(tmp_path / "wrong"), "--facts", "seal_intact")
    assert wrong.returncode == 3 and "wrong passphrase" in wrong.stderr, wrong.stderr
    unknown = _cli(
        env, "inspect", GTIN, "NEVER-MADE", "--key", "insp", "--passphrase-file", str(tmp_path / "pass"), "--facts", ""
    )
    assert unknown.returncode == 1 and "refused by the gateway (unknown_unit)" in unknown.stderr, unknown.stderr

    # The checklist answered (sealed, packed, unused, not defective), the payouts shown, then declined.
    answers = "y\ny\nn\nn\n"
    declined = _cli(env, *inspect, "--passphrase-file", str(tmp_path / "pass"), stdin=answers + "n\n")
    quote = escrow.quote(order_id, Grade.A, SEALED, 0)
    eth = lambda v: f"{Decimal(v).scaleb(-18).normalize():f} ETH"  # noqa: E731
    assert declined.returncode == 1 and "declined: nothing was uploaded, signed or sent" in declined.stderr
    for shown in (
        "seal_intact, packaging_intact",
        "│ grade             │ A",
        eth(quote["refund"]),
        "signing settles the order at once",
    ):
        assert shown in declined.stdout, declined.stdout
    assert "Sign this inspection?" in declined.stderr and "evidence" not in declined.stdout
    assert _nonces(http, inspector.address) == before and escrow.order(order_id)["status"] == Status.RETURN_REQUESTED

    # Confirmed: the photo stored, the scan and the attestation signed, followed until the order settles.
    done = _cli(env, *inspect, "--passphrase-file", str(tmp_path / "pass"), stdin=answers + "y\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "EventBatch: confirmed in block" in done.stdout and "Inspection: confirmed in block" in done.stdout
    assert f"order {order_id} is now settled" in done.stdout
    o = escrow.order(order_id)
    assert (o["status"], o["grade"], o["facts"]) == (Status.SETTLED, Grade.A, SEALED)
    photo_cid = done.stdout.split("photo unit.png: ")[1].split()[0]
    record_cid = done.stdout.split("evidence of this inspection: ")[1].split()[0]
    record = http.get(f"/v1/evidence/{record_cid}").content
    assert json.loads(record) == {
        "orderId": str(order_id),
        "unitId": "0x" + shop.unit(order_id).hex(),
        "facts": SEALED,
        "photos": [photo_cid],
    }
    assert http.get(f"/v1/evidence/{photo_cid}").content == photo
    view = http.get(f"/01/{GTIN}/21/CLI-INSPECT-1", headers={"accept": "application/json"}).json()
    (scan,) = [e for e in view["timeline"] if e["step"] == "inspecting"]
    assert scan["signer"] == inspector.address and scan["evidence"] == record_cid
    assert view["return_status"]["inspection"]["evidence"] == record_cid
