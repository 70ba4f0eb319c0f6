"""The command's state on disk: keystores (returntrace/cli/keystore.py) and the scan's journal
(returntrace/cli/journal.py), without a gateway."""

from __future__ import annotations

import json
import stat

import pytest

from returntrace.cli import keystore
from returntrace.cli.journal import Journal, JournalMismatch

KEY = bytes.fromhex("11" * 32)


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    monkeypatch.setenv(keystore.TEST_SCRYPT_N_ENV, "1024")


def test_a_keystore_unlocks_with_its_passphrase_only(tmp_path):
    path, address = keystore.save(tmp_path, "dock", KEY, "right")
    data = json.loads(path.read_text())
    assert data["crypto"]["kdf"] == "scrypt" and data["crypto"]["kdfparams"]["n"] == 1024
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    good = tmp_path / "good"
    good.write_text("right\nignored second line\n")
    assert keystore.load_account(path, keystore.PassphraseSource(good)).address == address
    bad = tmp_path / "bad"
    bad.write_text("wrong\n")
    before = path.read_bytes()
    with pytest.raises(keystore.KeystoreError, match="wrong passphrase"):
        keystore.load_account(path, keystore.PassphraseSource(bad))
    assert path.read_bytes() == before
    with pytest.raises(keystore.KeystoreError, match="exists already"):
        keystore.save(tmp_path, "dock", KEY, "other")
    assert [e.name for e in keystore.entries(tmp_path)] == ["dock"]
    assert keystore.resolve(tmp_path, address.lower()) == path


def test_passphrase_and_names_are_checked(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(keystore.KeystoreError, match="empty"):
        keystore.PassphraseSource(empty).read()
    with pytest.raises(keystore.KeystoreError, match="cannot read"):
        keystore.PassphraseSource(tmp_path / "missing").read()
    with pytest.raises(keystore.KeystoreError, match="name"):
        keystore.path_for(tmp_path, "../escape")
    monkeypatch.setenv(keystore.TEST_SCRYPT_N_ENV, "1000")
    with pytest.raises(keystore.KeystoreError, match="power of two"):
        keystore.scrypt_n()
    monkeypatch.delenv(keystore.TEST_SCRYPT_N_ENV)
    assert keystore.scrypt_n() == keystore.PRODUCTION_SCRYPT_N == 2**18


def test_the_journal_keeps_signed_sessions_and_refuses_another_input(tmp_path):
    path = tmp_path / "scan.journal.sqlite3"
    journal = Journal(path)
    journal.bind(input="aa", signer="0x1")
    first = journal.add("EventBatch", 7, "0xid1", {"events": []}, [2, 3])
    journal.update(first, "void", "unit_closed: …")
    journal.refuse([2], "unit_closed: …")
    second = journal.add("EventBatch", 7, "0xid2", {"events": []}, [3])
    journal.close()

    again = Journal(path)  # as a resumed run opens it
    assert [(s.seq, s.nonce, s.state, s.lines) for s in again.sessions()] == [
        (first.seq, 7, "void", [2, 3]),
        (second.seq, 7, "signed", [3]),
    ]
    assert list(again.signed_lines()) == [3] and again.refusals() == {2: "unit_closed: …"}
    with pytest.raises(JournalMismatch, match="input"):
        again.bind(input="bb", signer="0x1")
    again.bind(input="aa", signer="0x1")
    again.close()
