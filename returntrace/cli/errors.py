"""How the `returntrace` command fails: a clear message on stderr and an exit code per cause."""

from __future__ import annotations

import click

# Exit codes shared by the commands (each command's --help lists its own).
EXIT_OK = 0
EXIT_REFUSED = 1  # the work ran and something was refused or did not verify
EXIT_USAGE = 2  # click's own: bad arguments
EXIT_CANNOT_RUN = 3  # no gateway, no keystore, wrong passphrase, unreadable file


class CliError(click.ClickException):
    """A failure the user can act on: `message` says what happened and what to do."""

    def __init__(self, message: str, exit_code: int = EXIT_CANNOT_RUN) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class; ours varies
