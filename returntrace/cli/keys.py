"""`returntrace keys new|import|list`: the encrypted keys the command signs with (keystore.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from eth_account import Account
from rich.console import Console
from rich.table import Table

from . import keystore
from .errors import CliError

PASSPHRASE_FILE = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="read the passphrase from this file's first line (default: a hidden prompt)",
)


@click.group()
def keys() -> None:
    """Create, import and list encrypted keys (Web3 Secret Storage keystores)."""


def _folder() -> Path:
    return click.get_current_context().find_root().obj.keystore_dir


@keys.command("new")
@click.argument("name")
@PASSPHRASE_FILE
def new(name: str, passphrase_file: Path | None) -> None:
    """Create a new key NAME, encrypted with a passphrase (asked twice)."""
    folder = _folder()
    keystore.path_for(folder, name)  # a bad name fails before the passphrase is asked for
    if keystore.path_for(folder, name).exists():
        raise keystore.KeystoreError(f"a keystore named {name!r} exists already in {folder}")
    passphrase = keystore.PassphraseSource(passphrase_file).read("New passphrase", confirm=True)
    account = Account.create()
    path, address = keystore.save(folder, name, bytes(account.key), passphrase)
    click.echo(f"{name} {address} {path}")


def _read_private_key(key_file: str | None) -> bytes:
    """The private key from a file ('-': stdin) or a hidden prompt: never from the command line."""
    if key_file is None:
        text = click.prompt("Private key (hex)", hide_input=True, err=True)
    elif key_file == "-":
        text = sys.stdin.readline()
    else:
        try:
            text = Path(key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot read the key file {key_file}: {exc.strerror}") from None
    text = text.strip().removeprefix("0x")
    try:
        key = bytes.fromhex(text)
        if len(key) != 32:
            raise ValueError
        Account.from_key(key)
    except ValueError:
        raise CliError("the private key must be 32 bytes of hex (64 hex digits, 0x optional)") from None
    return key


@keys.command("import")
@click.argument("name")
@click.option("--key-file", default=None, help="read the private key (hex) from this file, or '-' for stdin")
@PASSPHRASE_FILE
def import_(name: str, key_file: str | None, passphrase_file: Path | None) -> None:
    """Import an existing private key as NAME, encrypted with a passphrase (asked twice)."""
    folder = _folder()
    if keystore.path_for(folder, name).exists():
        raise keystore.KeystoreError(f"a keystore named {name!r} exists already in {folder}")
    key = _read_private_key(key_file)
    passphrase = keystore.PassphraseSource(passphrase_file).read("New passphrase", confirm=True)
    path, address = keystore.save(folder, name, key, passphrase)
    click.echo(f"{name} {address} {path}")


@keys.command("list")
def list_() -> None:
    """The keys in the keystore folder: name, address, file (no passphrase needed)."""
    folder = _folder()
    found = keystore.entries(folder)
    if not found:
        click.echo(f"no keystores in {folder}", err=True)
        return
    table = Table("name", "address", "file")
    for e in found:
        table.add_row(e.name, e.address, str(e.path))
    Console(width=200).print(table)
