"""Every RT_* environment variable, in one place: the gateway's settings, the deploy script's keys and
the demo's, each a validated pydantic model read from the environment, and the knobs of the tests,
benchmarks and tools, listed.

    Settings.from_env()          the gateway's (uvicorn --factory api.main:app)
    DeploySettings.from_env()    scripts/deploy.py
    DemoSettings.from_env()      scripts/demo.py (make demo)

A value that does not fit its field is a SettingsError naming the variable, before anything starts.
The configuration table of docs/operations.md is written from here:

    python -m api.settings --markdown              print the table
    python -m api.settings --write docs/operations.md   replace it between the settings markers
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

from eth_utils import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .chain.client import REQUEST_RPC, WORKER_RPC, RpcProfile

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "RT_"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
HEX_KEY = r"^(0x)?[0-9a-fA-F]{64}$"  # a secp256k1 private key


def _private_key(description: str) -> Any:
    """An optional secp256k1 private key: checked for its form, never shown by repr."""
    return Field(None, repr=False, pattern=HEX_KEY, description=description)


def _rate(default: float, what: str) -> Any:
    """A per-client rate (a token bucket's refill, api/http/limits.py): `what` per second each client may ask for."""
    return Field(
        default,
        gt=0,
        description=f"{what} per second each client (its IP address) may make, on average; beyond it 429 "
        "`rate_limited` with `Retry-After`",
    )


def _burst(default: int, what: str) -> Any:
    """A per-client burst (a token bucket's size): `what` a client may ask for at once."""
    return Field(default, gt=0, description=f"{what} a client may make at once, before the rate holds")


class SettingsError(ValueError):
    """Environment variables whose values do not fit; the message names each one and why."""


class EnvModel(BaseModel):
    """A frozen model whose field `name` is read from the variable RT_<NAME>; an unset or empty
    variable leaves the default. `used_by` names who reads them (the configuration table)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    used_by: ClassVar[str] = ""
    # Fields whose variable holds a comma-separated list.
    lists: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def env_name(cls, field: str) -> str:
        return PREFIX + field.upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        raw: dict[str, Any] = {}
        for name in cls.model_fields:
            value = environ.get(cls.env_name(name))
            if value is None or value == "":
                continue
            raw[name] = tuple(p.strip() for p in value.split(",") if p.strip()) if name in cls.lists else value
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else ""
                if field not in cls.model_fields:
                    problems.append(f"{field or cls.__name__}: {error['msg']}")
                    continue
                name = cls.env_name(field)
                shown = repr(environ.get(name, "")) if cls.model_fields[field].repr else "(a secret, not shown)"
                problems.append(f"{name}={shown}: {error['msg']}")
            raise SettingsError(f"{cls.used_by or cls.__name__} configuration: " + "; ".join(problems)) from None

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes`, validated like the original (pydantic's model_copy does not validate)."""
        return type(self).model_validate({**dict(self), **changes})


class Settings(EnvModel):
    """The gateway's settings."""

    used_by: ClassVar[str] = "gateway"
    lists: ClassVar[tuple[str, ...]] = ("legacy_manifests", "auditors", "safety_contacts")

    rpc_url: str = Field("http://127.0.0.1:8545", pattern=r"^https?://", description="the chain node's JSON-RPC URL")
    rpc_timeout: float = Field(
        REQUEST_RPC.timeout,
        gt=0,
        description="seconds a request waits for the node, per call, not retried: a hung node is a 503 "
        "`chain_unavailable` "
        "(an unverified page) within about this long",
    )
    worker_rpc_timeout: float = Field(
        WORKER_RPC.timeout,
        gt=0,
        description="the same for the relayer's and the indexer's calls, on their own connections; they back off "
        "and retry",
    )
    manifest: Path = Field(
        ROOT / "deployments" / "31337.json",
        description="the deployment manifest (schema 2, written by scripts/deploy.py)",
    )
    legacy_manifests: tuple[Path, ...] = Field(
        (),
        description="comma-separated manifests of previous deployments (schema 1, on the same chain) served read-only: "
        "their units keep verified pages ([Moving to a new deployment](#moving-to-a-new-deployment))",
    )
    relayer_key: str | None = _private_key(
        "key of the account that pays gas for relayed messages; unset: the gateway only reads (503 "
        "`read_only` on posts). Never commit one"
    )
    database: Path = Field(
        ROOT / "data" / "gateway.sqlite3",
        description="SQLite file of the outbox; the index is `<stem>.index.sqlite3` beside it, written by the "
        "indexer's own process (previous deployments' indexes beside them too)",
    )
    evidence_dir: Path = Field(ROOT / "data" / "evidence", description="folder of the evidence store")
    ipfs_api: str | None = Field(
        None,
        description="IPFS node (Kubo RPC API: URL or multiaddr) to add and pin evidence on; unset: the local "
        "store only",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        pattern=r"^https?://",
        description="base URL of the resolver that QR codes and canonical links carry",
    )
    max_upload_bytes: int = Field(10 * 1024 * 1024, gt=0, description="largest evidence upload, in bytes")
    max_body_bytes: int = Field(
        8 * 1024 * 1024,
        gt=0,
        description="largest request body of every route but the evidence upload, in bytes (a signed batch of 1,000 "
        "items fits well within the default); past it 413 `too_large`, read no further",
    )
    evidence_staging_ttl: float = Field(
        24 * 3600.0,
        gt=0,
        description="seconds an uploaded evidence file is kept, from its first upload, while no confirmed signed "
        "message, signed document or indexed record carries its digest (staged); then deleted unless a message "
        "carrying it is still on its way ([Evidence staging](#evidence-staging))",
    )
    evidence_staging_max_bytes: int = Field(
        2 * 1024**3,
        gt=0,
        description="bytes of staged evidence kept at most for anonymous uploaders and accounts the gateway does not "
        "know, all together; beyond it `POST /v1/evidence` answers 507 `staging_full` with `Retry-After` (when the "
        "oldest such file expires)",
    )
    evidence_staging_account_bytes: int = Field(
        256 * 1024**2,
        gt=0,
        description="bytes of staged evidence kept at most for each signed-in accredited actor or order's buyer, "
        "apart from the shared budget, so that strangers filling it keep no party's evidence out",
    )
    upload_rate: float = _rate(1.0, "evidence uploads (`POST /v1/evidence`)")
    upload_burst: int = _burst(30, "evidence uploads")
    batch_max_events: int = Field(1000, gt=0, description="events per relayed transaction, at most")
    batch_interval: float = Field(0.05, gt=0, description="seconds between relayer rounds when the queue is empty")
    index_interval: float = Field(0.2, gt=0, description="seconds between indexer rounds when caught up")
    index_block_range: int = Field(
        2000, gt=0, description="blocks per `eth_getLogs` request (halved when a node refuses)"
    )
    index_confirmations: int = Field(
        0, ge=0, description="blocks the indexer stays behind the head: reorg safety on public chains"
    )
    min_deadline_margin: int = Field(
        60, ge=0, description="seconds a message must still be valid for when it is accepted"
    )
    relay: bool = Field(True, description="`0` keeps the relayer from running (messages are queued, not sent)")
    index: bool = Field(True, description="`0` keeps the indexer from running")
    assess_rate: float = _rate(0.5, "requests to `POST /v1/assistant/assess`")
    assess_burst: int = _burst(10, "requests to `POST /v1/assistant/assess`")
    signin_rate: float = _rate(0.5, "sign-in nonces (`GET /v1/auth/nonce`; each one is stored until used or expired)")
    signin_burst: int = _burst(20, "sign-in nonce requests")
    signin_max_nonces: int = Field(
        100_000,
        gt=0,
        description="unexpired sign-in nonces stored at most, for all clients together; beyond it "
        "`GET /v1/auth/nonce` answers 503 `sign_in_busy` with `Retry-After`",
    )
    handoff_above: float = Field(
        500.0,
        ge=0,
        description="an order priced above this many whole units of its currency goes to a person "
        "(`handoff.why`: `above_value`)",
    )
    handoff_returns: int = Field(
        3,
        gt=0,
        description="a buyer with this many return requests in the index or more goes to a person "
        "(`handoff.why`: `repeated_returns`)",
    )
    session_hours: float = Field(
        12.0,
        gt=0,
        description="hours a Sign-In with Ethereum session lasts at most (also capped by the signed message's "
        "Expiration Time)",
    )
    auditors: tuple[str, ...] = Field(
        (),
        description="comma-separated accounts of the accredited auditors who, signed in, read cases and their "
        "evidence (the registry has no auditor role)",
    )
    text_retention_days: int = Field(
        180,
        gt=0,
        description="days a buyer's own words (stored only when they ask for a person or sign a return request) "
        "are kept; purged at start and on every case write (docs/people.md)",
    )
    case_sla_hours: int = Field(48, gt=0, description="hours staff have to answer a case")
    case_sla_urgent_hours: int = Field(4, gt=0, description="hours staff have to answer an urgent (safety) case")
    safety_contacts: tuple[str, ...] = Field(
        (),
        description="comma-separated `<organisation GLN>=<contact>`: each brand's product-safety contact, told of "
        "every `safety_concern` case about its products",
    )
    pause_before_broadcast: float = Field(
        0.0,
        ge=0,
        description="fault injection for the crash tests only: seconds the relayer waits between storing a signed "
        "transaction and broadcasting it",
    )

    @property
    def index_database(self) -> Path:
        """The index's file, beside the outbox's (RT_DATABASE): derived data, rebuilt from the chain
        if lost, and written by the indexer's own process while this one writes the outbox."""
        return self.database.with_name(f"{self.database.stem}.index.sqlite3")

    @property
    def cases_database(self) -> Path:
        """The cases' file (sessions, cases, their log, the buyers' texts, the safety notifications),
        beside the outbox's: people's data, kept apart from the chain's derived data."""
        return self.database.with_name(f"{self.database.stem}.cases.sqlite3")

    @property
    def safety_contact_of(self) -> dict[int, str]:
        """Organisation GLN -> its product-safety contact (RT_SAFETY_CONTACTS)."""
        return {int(gln): contact for gln, _, contact in (item.partition("=") for item in self.safety_contacts)}

    @property
    def request_rpc(self) -> RpcProfile:
        return RpcProfile(self.rpc_timeout)

    @property
    def worker_rpc(self) -> RpcProfile:
        return RpcProfile(self.worker_rpc_timeout)

    @field_validator("auditors")
    @classmethod
    def _accounts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for account in value:
            if not re.fullmatch(r"0x[0-9a-fA-F]{40}", account):
                raise ValueError(f"{account!r} is not an account (0x and 40 hex digits)")
        return tuple(to_checksum_address(a) for a in value)

    @field_validator("safety_contacts")
    @classmethod
    def _contacts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            gln, _, contact = item.partition("=")
            if not (re.fullmatch(r"[0-9]{13}", gln.strip()) and contact.strip()):
                raise ValueError(f"{item!r} is not `<13-digit organisation GLN>=<contact>`")
        return tuple(f"{g.strip()}={c.strip()}" for g, _, c in (i.partition("=") for i in value))

    @field_validator("manifest", "database", "evidence_dir")
    @classmethod
    def _not_empty(cls, value: Path) -> Path:
        if str(value) in ("", "."):
            raise ValueError("must name a file or folder")
        return value


class DeploySettings(EnvModel):
    """scripts/deploy.py: the deployer's key and the four trusted powers' keys."""

    used_by: ClassVar[str] = "scripts/deploy.py"

    deployer_key: str | None = _private_key(
        "the deployer's key on a non-local network (`brownie run scripts/deploy.py --network <id>`); never commit one"
    )
    accreditor_key: str | None = _private_key("the accreditor's key (TraceRegistry: actors, products, return centers)")
    law_admin_key: str | None = _private_key("the law admin's key (ReturnPolicies: each market's consumer law)")
    policy_admin_key: str | None = _private_key("the policy admin's key (ReturnPolicies: return policies, currencies)")
    arbiter_key: str | None = _private_key(
        "the arbiter's key (disputes). The four powers take four separate keys, required on any chain but a local one"
    )


class DemoSettings(EnvModel):
    """scripts/demo.py (`make demo`)."""

    used_by: ClassVar[str] = "scripts/demo.py"

    port: int = Field(8000, gt=0, lt=65536, description="port of the demo's gateway")
    serve: bool = Field(
        True,
        description="`0` exits after the scenario (`make demo SERVE=0`); `1` keeps the gateway and the chain serving",
    )


MODELS: tuple[type[EnvModel], ...] = (Settings, DeploySettings, DemoSettings)

# Read where they are used, not validated here: the test harness's, the benchmarks' and the tools'.
KNOBS: dict[str, tuple[str, str]] = {
    "RT_ANVIL_PORT": (
        "tools/brownie_network.py (`make …`)",
        "port of the local anvil (default 8545); with a separate `HOME`, two runs share a machine",
    ),
    "RT_CHROMIUM": ("tests/api/browser.py", "Chromium to drive when it is not `chromium` on `PATH`"),
    "RT_CLOCK_TICK": (
        "tests/clock_race.py",
        "seconds the chain moves after every signature and before every transaction (clock races forced)",
    ),
    "RT_CLOCK_AHEAD": ("tests/clock_race.py", "seconds every test ends ahead of fn_isolation's revert"),
    "RT_WRITE_DOC_EXAMPLES": (
        "tests/api/test_integrator_docs.py (`make doc-examples`)",
        "`1` rewrites docs/integrators.md's example bodies and answers from the test's walk instead of checking them",
    ),
    "RT_STATEFUL_EXAMPLES": (
        "tests/properties/test_stateful_escrow.py",
        "examples of the stateful escrow machine (default 8; more for a longer bug hunt)",
    ),
    "RT_BENCH_EVENTS": ("bench/gateway.py", "events the gateway bench sends (default 100000)"),
    "RT_BENCH_SIGNERS": ("bench/gateway.py", "signers in the gateway bench (default 20)"),
    "RT_BENCH_SESSION": ("bench/gateway.py", "events per signed message in the gateway bench (default 100)"),
    "RT_BENCH_CLIENTS": ("bench/gateway.py", "concurrent posters in the gateway bench (default 16)"),
    "RT_BENCH_PAGE_REQUESTS": ("bench/gateway.py", "page requests timed by the gateway bench (default 500)"),
    "RT_BENCH_BATCH_EVENTS": ("bench/gateway.py", "events per transaction in both gateway bench phases (default 1000)"),
    "RT_BENCH_ROUNDS": (
        "bench/gateway.py",
        "rounds of the gateway bench's three phases and of the CLI bench, median taken (default 3)",
    ),
    "RT_BENCH_ROWS": ("bench/cli_scan.py", "rows in the CLI bench's scanner export (default 10000)"),
    "RT_BENCH_ANALYTICS_EVENTS": (
        "bench/analytics.py",
        "events in the analytics bench's synthetic index (default 100000)",
    ),
    "RT_BENCH_ANALYTICS_REQUESTS": (
        "bench/analytics.py",
        "requests of each page timed by the analytics bench (default 200)",
    ),
    "RT_BENCH_ASSISTANT_ROUNDS": ("bench/assistant.py", "timed passes over the held-out texts (default 3)"),
    "RT_BENCH_PROFILE": ("bench/gateway.py", "0: the gateway bench runs without py-spy (default 1)"),
    "RT_BENCH_PAGE": ("bench/gateway.py", "0: the gateway bench prints without writing its page (default 1)"),
}


def variables() -> dict[str, str]:
    """Every documented RT_* variable and who reads it."""
    out = {m.env_name(f): m.used_by for m in MODELS for f in m.model_fields}
    out.update({name: who for name, (who, _) in KNOBS.items()})
    return out


def _default(value: Any) -> str:
    if value is None or value == ():
        return "unset"
    if isinstance(value, bool):
        return "`1`" if value else "`0`"
    if isinstance(value, Path):
        try:
            return f"`{value.relative_to(ROOT)}`"
        except ValueError:
            return f"`{value}`"
    return f"`{value}`"


def markdown() -> str:
    """The configuration tables of docs/operations.md, between the settings markers."""
    lines = [
        BEGIN,
        "<!-- written by `python -m api.settings --write docs/operations.md` from api/settings.py; edit there -->",
        "",
        "| variable | used by | default | meaning |",
        "|---|---|---|---|",
    ]
    for model in MODELS:
        for name, field in model.model_fields.items():
            lines.append(
                f"| `{model.env_name(name)}` | {model.used_by} | {_default(field.default)} | {field.description} |"
            )
    lines += [
        "",
        "Knobs of the tests, the benchmarks and the tools (read where they are used):",
        "",
        "| variable | used by | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {who} | {meaning} |" for name, (who, meaning) in KNOBS.items()]
    return "\n".join(lines + [END])


def write(path: Path) -> bool:
    """Replaces the block between the settings markers of `path` (a Configuration section is appended
    if it has none). True if the file changed."""
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        before, _, rest = text.partition(BEGIN)
        _, _, after = rest.partition(END)
        new = before + markdown() + after
    else:
        new = text.rstrip("\n") + ("\n\n" if text else "") + "## Configuration\n\n" + markdown() + "\n"
    if new == text:
        return False
    path.write_text(new)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.settings", description="The RT_* settings' documentation.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--markdown", action="store_true", help="print the configuration tables")
    group.add_argument(
        "--write", type=Path, metavar="FILE", help="replace the tables between the settings markers of FILE"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown())
    else:
        print(f"{args.write}: {'updated' if write(args.write) else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
