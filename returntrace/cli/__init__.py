"""`returntrace`: the operators' command (keys, scans, status, the auditor's checks).

    returntrace [--gateway URL] [--keystore-dir DIR] COMMAND ...

Each subcommand is a module of this package registered below; docs/operators.md shows them in use.
The gateway's URL comes from --gateway, else RETURNTRACE_GATEWAY, else http://127.0.0.1:8000.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from . import keystore
from .gateway_client import GATEWAY_ENV, GatewayClient


@dataclass
class Context:
    """What every subcommand shares: where the gateway and the keystores are."""

    gateway_url: str | None
    keystore_dir: Path
    _client: GatewayClient | None = field(default=None, repr=False)

    def gateway(self) -> GatewayClient:
        if self._client is None:
            self._client = GatewayClient(self.gateway_url)
        return self._client


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--gateway", "gateway_url", envvar=GATEWAY_ENV, default=None, help="the gateway's URL")
@click.option(
    "--keystore-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=keystore.KEYSTORE_DIR_ENV,
    default=None,
    help="folder of the encrypted keys (default: the user's config folder)",
)
@click.version_option(package_name="returntrace", prog_name="returntrace")
@click.pass_context
def main(ctx: click.Context, gateway_url: str | None, keystore_dir: Path | None) -> None:
    """ReturnTrace from the command line: keys, scans, inspections, status and the auditor's checks."""
    ctx.obj = Context(gateway_url, keystore_dir or keystore.default_dir())


def _register() -> None:
    from .audit import audit
    from .inspect import inspect
    from .keys import keys
    from .scan import scan
    from .status import status

    main.add_command(audit)
    main.add_command(keys)
    main.add_command(scan)
    main.add_command(status)
    main.add_command(inspect)


_register()
