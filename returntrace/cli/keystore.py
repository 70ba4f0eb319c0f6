"""Encrypted keys for the command: Web3 Secret Storage JSON keystores (v3, scrypt) in one folder.

A keystore file is `<name>.json` holding eth_account's `Account.encrypt` output plus the
address, so `keys list` needs no passphrase. The passphrase comes from a hidden prompt or a file
(`--passphrase-file`), never from the command line, where other users' `ps` would see it.

The scrypt cost is production strength (n = 2**18, about a second per unlock). Tests set
RETURNTRACE_TEST_SCRYPT_N (test-only: a cheap n makes a stolen keystore cheap to brute-force) so that
each unlock takes milliseconds; the setting is read when a key is written, and a keystore records
its own n, so unlocking never depends on it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from eth_account import Account
from eth_account.signers.local import LocalAccount

from .errors import CliError

PRODUCTION_SCRYPT_N = 2**18
TEST_SCRYPT_N_ENV = "RETURNTRACE_TEST_SCRYPT_N"  # test-only: see the module's docstring
KEYSTORE_DIR_ENV = "RETURNTRACE_KEYSTORE_DIR"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class KeystoreError(CliError):
    """A keystore that cannot be read, written or unlocked; nothing was changed."""


def default_dir() -> Path:
    """The user's config folder (XDG_CONFIG_HOME on Linux, as click finds it) / keystores,
    unless RETURNTRACE_KEYSTORE_DIR or --keystore-dir says otherwise."""
    env = os.environ.get(KEYSTORE_DIR_ENV)
    return Path(env) if env else Path(click.get_app_dir("returntrace")) / "keystores"


def scrypt_n() -> int:
    raw = os.environ.get(TEST_SCRYPT_N_ENV)
    if not raw:
        return PRODUCTION_SCRYPT_N
    n = int(raw)
    if n < 2 or n & (n - 1):
        raise KeystoreError(f"{TEST_SCRYPT_N_ENV} must be a power of two, got {raw}")
    return n


@dataclass(frozen=True)
class PassphraseSource:
    """Where a passphrase comes from: a file (its first line), else a hidden prompt on the terminal."""

    file: Path | None = None

    def read(self, prompt: str = "Passphrase", confirm: bool = False) -> str:
        if self.file is not None:
            try:
                text = self.file.read_text(encoding="utf-8")
            except OSError as exc:
                raise KeystoreError(f"cannot read the passphrase file {self.file}: {exc.strerror}") from None
            passphrase = text.splitlines()[0] if text else ""
        else:
            passphrase = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
        if not passphrase:
            raise KeystoreError("the passphrase is empty")
        return passphrase


def _encrypt(key: bytes, passphrase: str) -> dict[str, Any]:
    # eth_account's encrypt has no scrypt-n argument; it takes `iterations` as the cost for both kdfs.
    return Account.encrypt(key, passphrase, kdf="scrypt", iterations=scrypt_n())


def path_for(folder: Path, name: str) -> Path:
    if not NAME.match(name):
        raise KeystoreError(f"a key's name is 1-64 letters, digits, '.', '_' or '-', got {name!r}")
    return folder / f"{name}.json"


def save(folder: Path, name: str, key: bytes, passphrase: str) -> tuple[Path, str]:
    """Writes the keystore `<folder>/<name>.json` (mode 0600, never over an existing one): (path, address)."""
    path = path_for(folder, name)
    if path.exists():
        raise KeystoreError(f"a keystore named {name!r} exists already ({path}); choose another name")
    data = _encrypt(key, passphrase)
    address = Account.from_key(key).address
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({**data, "address": address[2:].lower()}, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return path, address


@dataclass(frozen=True)
class Entry:
    name: str
    address: str
    path: Path


def entries(folder: Path) -> list[Entry]:
    """The keystores in `folder`, by name; files that are no keystore are left out."""
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            address = _checksum(data["address"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found.append(Entry(path.stem, address, path))
    return found


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address if address.startswith("0x") else "0x" + address)


def resolve(folder: Path, name_or_path: str) -> Path:
    """A keystore by its name in `folder`, its address, or a path to its file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".json" and candidate.exists():
        return candidate
    for e in entries(folder):
        if name_or_path in (e.name, e.address) or name_or_path.lower() == e.address.lower():
            return e.path
    raise KeystoreError(f"no keystore {name_or_path!r} in {folder} (see `returntrace keys list`)")


def load_account(path: Path, passphrase: PassphraseSource) -> LocalAccount:
    """The account in the keystore at `path`, unlocked with the passphrase from `passphrase`.
    A wrong passphrase or a damaged file is a KeystoreError that says which."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeystoreError(f"cannot read the keystore {path}: {exc.strerror}") from None
    except ValueError:
        raise KeystoreError(f"{path} is not a JSON keystore") from None
    secret = passphrase.read(f"Passphrase for {path.stem}")
    try:
        key = Account.decrypt(data, secret)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise KeystoreError(f"wrong passphrase for the keystore {path}") from None
        raise KeystoreError(f"{path} is not a readable Web3 Secret Storage keystore: {exc}") from None
    except (KeyError, TypeError):
        raise KeystoreError(f"{path} is not a Web3 Secret Storage keystore") from None
    return Account.from_key(key)
