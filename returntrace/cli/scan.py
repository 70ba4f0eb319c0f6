"""`returntrace scan FILE`: a scanner's export signed in sessions, posted, followed to the chain.

    returntrace scan scans.csv --key warehouse --step receiving --disposition returned --location 9506000000038

Each row is checked locally first (barcode, check digits, known AIs, step, disposition, GLN, time;
rows.py) and, for a scan of an existing unit, against the gateway (an unknown unit is refused):
refused rows are never signed. If more than --max-refusal-rate of the file is refused the run
stops before signing anything. The others are signed in sessions (a CommissionBatch for
commissioning rows, an EventBatch for the rest; returntrace/messages.py) with the nonces the gateway
counts, journalled before they are posted (journal.py), and followed until the chain confirms them.
Run the same command again to resume an interrupted run: it posts the journalled sessions again
with the same bytes and signs only the rows no session holds.

Exit status: 0 every row confirmed (or accepted, with --no-wait); 1 rows refused, failed on-chain or
not yet confirmed; 2 bad arguments; 3 the scan could not run (no gateway, keystore, passphrase, file).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import messages
from ..vocab import BizStep
from . import keystore
from .errors import EXIT_REFUSED, CliError
from .gateway_client import GatewayClient, Refused
from .journal import Journal, JournalMismatch, Session
from .keys import PASSPHRASE_FILE
from .rows import CODE_COLUMNS, Defaults, Row, RowError, parse_time, read_row, records

ITEM = re.compile(r"^(units|events)\[(\d+)\][.:\w]*:?\s*")
NONCE_CODES = {"nonce_used", "nonce_conflict"}
KILL_AT_ENV = "RETURNTRACE_TEST_KILL_AT"  # test-only fault injection: "journalled:N" or "posted:N"


def _kill_if(event: str, count: int) -> None:
    """Test-only: SIGKILL this process right after the count-th session of the run was `event`
    (a real interruption at the worst moments: journalled but not posted, posted but not recorded)."""
    if os.environ.get(KILL_AT_ENV) == f"{event}:{count}":
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class Run:
    """One run of the command: its gateway, signer, journal and rows."""

    client: GatewayClient
    account: LocalAccount
    journal: Journal
    rows: dict[int, Row]
    session_size: int
    valid_for: int
    progress: Progress | None = None
    nonces: dict[str, int] = field(default_factory=dict)
    posted: int = 0
    journalled: int = 0

    def nonce(self, kind: str) -> int:
        if kind not in self.nonces:
            self.nonces[kind] = self.client.next_nonce(kind, self.account.address)
        return self.nonces[kind]

    def sign(self, kind: str, rows: list[Row], nonce: int) -> Session:
        if kind == "CommissionBatch":
            items = [messages.commission_item(int(r.scan.gtin), r.scan.serial, r.location, r.event_time) for r in rows]
        else:
            items = [
                messages.event_item(r.scan.unit_id, r.step, r.disposition, r.location, r.event_time, r.biz_transaction)
                for r in rows
            ]
        signed = messages.sign(
            self.client.domain(kind),
            kind,
            bytes(self.account.key),
            self.account.address,
            nonce=nonce,
            deadline=int(time.time()) + self.valid_for,
            **{messages.items_field(kind): items},
        )
        session = self.journal.add(kind, nonce, "0x" + signed.digest.hex(), signed.body, [r.line for r in rows])
        self.journalled += 1
        _kill_if("journalled", self.journalled)
        return session

    def post(self, session: Session) -> None:
        """Posts a journalled session; a refusal voids it, refuses the rows it names and signs the
        rest again under the same nonce (the refused one never took it)."""
        while True:
            try:
                self.client.post(self.client.post_path(session.kind), session.body)
            except Refused as exc:
                self.journal.update(session, "void", f"{exc.code}: {exc.detail}")
                m = ITEM.match(exc.detail)
                if m and exc.code not in NONCE_CODES and int(m.group(2)) < len(session.lines):
                    bad = session.lines[int(m.group(2))]
                    self.journal.refuse([bad], f"{exc.code}: {exc.detail[m.end() :]}")
                    rest = [self.rows[n] for n in session.lines if n != bad]
                else:
                    self.journal.refuse(session.lines, _refusal_reason(exc, session))
                    rest = []
                self._advance(len(session.lines) - len(rest))
                if not rest:
                    return
                session = self.sign(session.kind, rest, session.nonce)
                continue
            self.posted += 1
            _kill_if("posted", self.posted)  # the gateway has it, the journal does not know yet
            self.journal.update(session, "accepted")
            self.nonces[session.kind] = session.nonce + 1
            self._advance(len(session.lines))
            return

    def _advance(self, count: int) -> None:
        if self.progress is not None:
            self.progress.advance(self.progress.task_ids[0], count)


def _refusal_reason(exc: Refused, session: Session) -> str:
    if exc.code in NONCE_CODES:
        return (
            f"{exc.code}: nonce {session.nonce} was taken by another message of this key; these rows were not "
            "recorded: scan them again in a new file"
        )
    if exc.code == "expired":
        return "expired: the session's deadline passed before the gateway accepted it; scan these rows again"
    return f"{exc.code}: {exc.detail}"


def _check_rows(
    path: Path, fmt: str | None, defaults: Defaults
) -> tuple[dict[int, Row], dict[int, str], dict[int, str]]:
    """(rows, refusals, codes): every data line read and checked locally; a unit and step seen on
    an earlier line is refused as a double scan."""
    now = int(time.time())
    try:
        found = records(path, fmt)
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    except RowError as exc:
        raise CliError(str(exc)) from None
    rows: dict[int, Row] = {}
    refused: dict[int, str] = {}
    codes: dict[int, str] = {}
    seen: dict[tuple[bytes, int], int] = {}
    for line, record in found:
        if isinstance(record, str):
            refused[line] = record
            continue
        codes[line] = str(next((record[c] for c in CODE_COLUMNS if record.get(c)), ""))
        try:
            row = read_row(line, record, defaults, now)
        except RowError as exc:
            refused[line] = str(exc)
            continue
        key = (row.scan.unit_id, int(row.step))
        if key in seen:
            refused[line] = f"the same unit and step as line {seen[key]} (scanned twice)"
            continue
        seen[key] = line
        rows[line] = row
    return rows, refused, codes


def _unknown_units(
    client: GatewayClient, rows: list[Row], commissioned: set[bytes], console: Console
) -> dict[int, str]:
    """Rows whose unit the gateway does not know (and this file does not commission): refused."""
    refused: dict[int, str] = {}
    answers: dict[bytes, str | None] = {}
    todo = [r for r in rows if not r.commissioning and r.scan.unit_id not in commissioned]
    if not todo:
        return refused
    with _progress(console) as progress:
        task = progress.add_task("checking units", total=len(todo))
        for r in todo:
            unit = r.scan.unit_id
            if unit not in answers:
                try:
                    client.unit(r.scan.gtin, r.scan.serial)
                    answers[unit] = None
                except Refused as exc:
                    answers[unit] = f"{exc.code}: {exc.detail}"
            reason = answers[unit]
            if reason is not None:
                refused[r.line] = reason
            progress.advance(task)
    return refused


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _confirm(run: Run, sessions: list[Session], timeout: float, console: Console) -> None:
    """Polls the accepted sessions until the chain confirms them (or they fail, or `timeout`)."""
    waiting = [s for s in sessions if s.state == "accepted"]
    if not waiting:
        return
    deadline = time.monotonic() + timeout
    with _progress(console) as progress:
        task = progress.add_task("confirming", total=sum(len(s.lines) for s in waiting))
        while waiting and time.monotonic() < deadline:
            still = []
            for s in waiting:
                state = run.client.message(s.id)
                if state["status"] == "confirmed":
                    run.journal.update(s, "confirmed", tx=state.get("txHash"), block=state.get("block"))
                    progress.advance(task, len(s.lines))
                elif state["status"] == "failed":
                    run.journal.update(s, "failed", str(state.get("error")), tx=state.get("txHash"))
                    progress.advance(task, len(s.lines))
                else:
                    still.append(s)
            waiting = still
            if waiting:
                time.sleep(0.2)


def _summary(journal: Journal, refused: dict[int, str], codes: dict[int, str], total: int) -> dict[str, Any]:
    sessions = [s for s in journal.sessions() if s.state != "void"]
    count = {st: sum(len(s.lines) for s in sessions if s.state == st) for st in ("accepted", "confirmed", "failed")}
    failed = {n: s.detail or "failed" for s in sessions if s.state == "failed" for n in s.lines}
    all_refused = {**refused, **journal.refusals()}
    return {
        "rows": total,
        "signed": sum(len(s.lines) for s in sessions),
        "accepted": count["accepted"] + count["confirmed"] + count["failed"],
        "confirmed": count["confirmed"],
        "failed": [{"line": n, "code": codes.get(n, ""), "reason": r} for n, r in sorted(failed.items())],
        "pending": count["accepted"],
        "refused": [{"line": n, "code": codes.get(n, ""), "reason": r} for n, r in sorted(all_refused.items())],
        "sessions": len(sessions),
        "messages": [s.id for s in sessions],
    }


def _print_summary(summary: dict[str, Any], console: Console) -> None:
    table = Table("rows", "signed", "accepted", "confirmed", "pending", "failed", "refused", title="scan summary")
    table.add_row(
        *(
            str(v)
            for v in (
                summary["rows"],
                summary["signed"],
                summary["accepted"],
                summary["confirmed"],
                summary["pending"],
                len(summary["failed"]),
                len(summary["refused"]),
            )
        )
    )
    console.print(table)
    for title, entries in (("refused rows", summary["refused"]), ("failed on-chain", summary["failed"])):
        if entries:
            t = Table("line", "barcode", "reason", title=title)
            for e in entries:
                t.add_row(str(e["line"]), e["code"].replace("\x1d", "<GS>"), e["reason"])
            console.print(t)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_name", required=True, help="the signing key: a keystore name, address or file")
@PASSPHRASE_FILE
@click.option("--step", default=None, help="the step of rows without a `step` column (e.g. receiving)")
@click.option("--disposition", default=None, help="the disposition of rows without one (e.g. returned)")
@click.option("--location", default=None, help="the GLN of rows without a `location` column")
@click.option(
    "--time", "event_time", default=None, help="the time of rows without one (unix or ISO 8601; default: now)"
)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None, help="default: by the extension")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="the write-ahead journal (default: FILE.journal.sqlite3 beside the file)",
)
@click.option(
    "--session-size",
    type=click.IntRange(1, 1000),
    default=500,
    show_default=True,
    help="rows per signed session (500 commissionings take ~17M gas in one transaction)",
)
@click.option(
    "--max-refusal-rate",
    type=click.FloatRange(0, 1),
    default=0.1,
    show_default=True,
    help="stop before signing when more of the file than this is refused",
)
@click.option(
    "--valid-for", type=click.IntRange(120), default=86_400, show_default=True, help="seconds a session is valid"
)
@click.option(
    "--wait/--no-wait", default=True, show_default=True, help="follow the sessions until the chain confirms them"
)
@click.option("--timeout", type=float, default=600.0, show_default=True, help="seconds to wait for confirmation")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
@click.pass_obj
def scan(
    ctx: Any,
    file: Path,
    key_name: str,
    passphrase_file: Path | None,
    step: str | None,
    disposition: str | None,
    location: str | None,
    event_time: str | None,
    fmt: str | None,
    journal_path: Path | None,
    session_size: int,
    max_refusal_rate: float,
    valid_for: int,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Sign and post the scans in FILE (CSV or JSON lines), resumably."""
    console = Console(stderr=True)
    try:
        when = parse_time(event_time) if event_time else None
    except RowError as exc:
        raise click.BadParameter(str(exc), param_hint="--time") from None
    rows, refused, codes = _check_rows(file, fmt, Defaults(step, disposition, location, when))
    account = keystore.load_account(
        keystore.resolve(ctx.keystore_dir, key_name), keystore.PassphraseSource(passphrase_file)
    )
    client: GatewayClient = ctx.gateway()
    journal = Journal(journal_path or file.with_name(file.name + ".journal.sqlite3"))
    try:
        journal.bind(input=_sha256(file), signer=account.address)
    except JournalMismatch as exc:
        raise CliError(
            f"the journal {journal.path} belongs to another run ({exc}); finish that run with its own file and "
            "key, or give a new --journal"
        ) from None
    signed = set(journal.signed_lines())
    earlier = journal.refusals()
    pending = [r for n, r in sorted(rows.items()) if n not in signed and n not in earlier]
    commissioned = {r.scan.unit_id for r in rows.values() if r.commissioning}
    refused.update(_unknown_units(client, pending, commissioned, console))
    pending = [r for r in pending if r.line not in refused]
    total = len(rows) + len(refused.keys() - rows.keys())
    rate = len(refused.keys() | earlier.keys()) / total if total else 0.0
    if pending and rate > max_refusal_rate:
        summary = _summary(journal, refused, codes, total)
        journal.close_or_discard()
        _print_summary(summary, console)
        raise CliError(
            f"{len(summary['refused'])} of {total} rows refused ({rate:.0%}, more than --max-refusal-rate "
            f"{max_refusal_rate:.0%}): nothing signed or posted. Fix the file (reasons above) and run again.",
            EXIT_REFUSED,
        )

    run = Run(client, account, journal, rows, session_size, valid_for)
    with _progress(console) as progress:
        run.progress = progress
        unposted = [s for s in journal.sessions() if s.state == "signed"]
        progress.add_task("signing and posting", total=len(pending) + sum(len(s.lines) for s in unposted))
        for s in unposted:  # journalled by an interrupted run: the same bytes again
            run.post(s)
        for kind, group in (
            ("CommissionBatch", [r for r in pending if r.commissioning]),
            ("EventBatch", [r for r in pending if r.step != BizStep.COMMISSIONING]),
        ):
            for i in range(0, len(group), session_size):
                run.post(run.sign(kind, group[i : i + session_size], run.nonce(kind)))
        run.progress = None
    if wait:
        _confirm(run, journal.sessions(), timeout, console)
    summary = _summary(journal, refused, codes, total)
    journal.close()
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        _print_summary(summary, Console(width=200))
    bad = summary["refused"] or summary["failed"] or (wait and summary["pending"])
    if wait and summary["pending"]:
        console.print(
            f"{summary['pending']} rows not confirmed within {timeout:g} s: run the command again to follow them"
        )
    if bad:
        raise SystemExit(EXIT_REFUSED)
