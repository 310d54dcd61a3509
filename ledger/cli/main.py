"""Entry point of the ``lotchain`` command: one group, commands in sibling modules.

Errors: a :class:`~ledger.errors.LedgerError` prints its code and message (as JSON
with ``--json``) and exits with its ``exit_code``: 0 ok / pass, 1 fail, 2 bad usage or
input, 3 review, 4 could not complete (storage, network, internal error). Click's own
usage errors are reported the same way, as USAGE. Nothing reaches the user as a traceback.
"""

from __future__ import annotations

import importlib
import json
import sys

import click

from ledger import __version__
from ledger.errors import InternalError, LedgerError, StorageError, UsageError

#: Modules that add commands to :data:`cli` when imported.
COMMAND_MODULES = (
    "ledger.cli.log_cmds",
    "ledger.cli.sign_cmds",
    "ledger.cli.attest_cmds",
    "ledger.cli.registry_cmds",
    "ledger.cli.lifecycle_cmds",
    "ledger.cli.desk_cmds",
    "ledger.cli.verify_cmds",
    "ledger.cli.server_cmds",
    "ledger.cli.demo_cmds",
    "ledger.cli.db_cmds",
    "ledger.cli.allegation_cmds",
    "ledger.cli.vc_cmds",
    "ledger.cli.epcis_cmds",
    "ledger.cli.enforcement_cmds",
    "ledger.cli.report_cmds",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lotchain")
def cli() -> None:
    """lotchain: a traceability ledger of signed, hash-chained provenance attestations.

    Suppliers, auditors and importers append signed attestations to an append-only
    Merkle log; a verifier walks any shipment back to its raw material and says, with
    reasons, whether its chain holds.
    """


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise


def _wants_json(argv: list[str]) -> bool:
    return "--json" in argv


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, mapping coded errors to exit codes."""
    args = list(sys.argv[1:] if argv is None else argv)
    _load_commands()
    try:
        result = cli.main(args=args, prog_name="lotchain", standalone_mode=False)
    except LedgerError as e:
        _report(e, args)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(2)
    except click.exceptions.NoArgsIsHelpError as e:  # a group named alone: show its help
        e.show()
        sys.exit(2)
    except click.ClickException as e:
        _report(UsageError(_click_message(e)), args)
        sys.exit(UsageError.exit_code)
    except OSError as e:
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        _report(StorageError(f"{e.strerror or e}{where}"), args)
        sys.exit(StorageError.exit_code)
    except Exception as e:  # the last line of defence: a code and a message, no traceback
        _report(InternalError(f"unexpected {type(e).__name__}: {e}"), args)
        sys.exit(InternalError.exit_code)
    sys.exit(result if isinstance(result, int) else 0)


def _click_message(error: click.ClickException) -> str:
    """Click's message for a bad option or argument, with where to read the usage."""
    message = error.format_message()
    ctx = getattr(error, "ctx", None)
    if isinstance(error, click.UsageError) and ctx is not None:
        message += f" (see: {ctx.command_path} --help)"
    return message


def _report(error: LedgerError, args: list[str]) -> None:
    if _wants_json(args):
        click.echo(json.dumps({"error": error.to_dict()}), err=True)
    else:
        click.echo(f"error [{error.code}]: {error.message}", err=True)
