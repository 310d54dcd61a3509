"""Commands on the log itself: init, checkpoint, prove, audit."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ledger.audit import audit_log
from ledger.checkpoint import verify_checkpoint
from ledger.cli.common import (
    Options,
    emit,
    get_passphrase,
    home_options,
    remote_options,
    require_log,
)
from ledger.cli.main import cli
from ledger.encoding import b64encode
from ledger.errors import UsageError
from ledger.home import DEFAULT_ORIGIN, DEFAULT_REGISTRAR, init_home
from ledger.merkle import ConsistencyProof, InclusionProof
from ledger.witness import Remembered, check_extends

# -- init and keys ---------------------------------------------------------------------


@cli.command()
@home_options
@click.option(
    "--origin",
    default=DEFAULT_ORIGIN,
    show_default=True,
    help="Log origin: names the log in its checkpoints (C2SP signed note key name).",
)
@click.option(
    "--registrar",
    default=DEFAULT_REGISTRAR,
    show_default=True,
    help="Party id of the first registrar (admitted by the trust root).",
)
@click.option(
    "--registrar-name",
    default="lotchain Registrar",
    show_default=True,
    help="Legal name of the first registrar.",
)
@click.option(
    "--country", default="US", show_default=True, help="Registrar's country (ISO 3166-1)."
)
def init(opts: Options, origin: str, registrar: str, registrar_name: str, country: str) -> None:
    """Create a new ledger in --home: keys, trust root, database, and entry 0.

    Writes HOME/keys/trust-root.json (give it to verifiers), the encrypted registrar and
    log keys (HOME/keys/registrar.pem, HOME/keys/log.pem, mode 0600) and the database,
    then admits the registrar as the log's first entry. The passphrase comes from
    LOTCHAIN_PASSPHRASE or a prompt.
    """
    passphrase = get_passphrase("Passphrase for the new private keys", confirm=True)
    home = init_home(
        opts.home,
        passphrase,
        origin=origin,
        registrar=registrar,
        registrar_name=registrar_name,
        country=country,
        db=opts.db,
    )
    ledger = home.open_ledger(None)
    cp = ledger.checkpoint()
    value = {
        "home": str(opts.home),
        "trust_root": str(home.trust_root_path),
        "registrar": registrar,
        "database": home.db_url(),
        "checkpoint": cp.note.decode(),
    }
    emit(
        opts,
        value,
        f"initialised {opts.home}\n  trust root: {home.trust_root_path}\n"
        f"  database:   {home.db_url()}\n  registrar:  {registrar} (entry 0)\n\n"
        f"{cp.note.decode()}",
    )


# -- checkpoints and proofs ------------------------------------------------------------


def _proof_source(opts: Options) -> Callable[[int, int], ConsistencyProof]:
    if opts.remote:
        from ledger.client import Client

        client = Client(opts.remote, token=opts.token)
        return lambda old, new: ConsistencyProof.from_json(client.consistency_proof(old, new))
    ledger = opts.ledger()
    return lambda old, new: ledger.consistency_proof(old, new)


def _remembered(opts: Options, path: Path | None) -> Remembered:
    trust = opts.install.trust_root()
    return Remembered(path or opts.home / "witness" / "checkpoint.txt", trust.log_vkey)


@cli.command()
@home_options
@remote_options
@click.option(
    "--remember",
    is_flag=True,
    help="Check the checkpoint extends the one remembered before (consistency "
    "proof), then remember it. Detects a log rolled back or forked.",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="File of the remembered checkpoint (default: HOME/witness/checkpoint.txt).",
)
def checkpoint(opts: Options, remember: bool, state_file: Path | None) -> None:
    """Print the log's latest signed checkpoint, verified against the trust root."""
    trust = opts.install.trust_root()
    if opts.remote:
        from ledger.client import Client

        note = Client(opts.remote, token=opts.token).checkpoint()
    else:
        note = opts.ledger().checkpoint().note
    cp = verify_checkpoint(note, trust.log_vkey)
    value: dict[str, Any] = {
        "origin": cp.origin,
        "size": cp.size,
        "root": b64encode(cp.root),
        "note": note.decode(),
    }
    text = note.decode().rstrip("\n")
    if remember:
        memory = _remembered(opts, state_file)
        old = memory.load()
        if old is not None:
            check_extends(old, cp, _proof_source(opts))
            value["extends"] = old.size
            text += f"\n\nconsistent with the checkpoint remembered at size {old.size}"
        memory.save(cp)
    emit(opts, value, text)


@cli.group()
def prove() -> None:
    """Produce and check Merkle proofs (RFC 9162)."""


def _verified_root(opts: Options, size: int) -> bytes:
    """The root at ``size`` from a checkpoint the log signed, checked against the trust root."""
    trust = opts.install.trust_root()
    if opts.remote:
        from ledger.client import Client

        note = Client(opts.remote, token=opts.token).checkpoint(size)
        cp = verify_checkpoint(note, trust.log_vkey)
        if cp.size != size:
            raise UsageError(f"the server sent a checkpoint of size {cp.size}, not {size}")
        return cp.root
    stored = opts.ledger().store.checkpoint(size)
    if stored is None:
        raise UsageError(f"the log signed no checkpoint at size {size}")
    return verify_checkpoint(stored.note, trust.log_vkey).root


@prove.command("inclusion")
@home_options
@remote_options
@click.argument("ref")
@click.option(
    "--tree-size",
    type=click.IntRange(min=1),
    default=None,
    help="Prove against this checkpoint size (default: the latest).",
)
def prove_inclusion(opts: Options, ref: str, tree_size: int | None) -> None:
    """Prove that entry REF (attestation id or index) is in the log, and check the proof."""
    if opts.remote:
        from ledger.client import Client

        raw = Client(opts.remote, token=opts.token).inclusion_proof(ref, tree_size)
        proof = InclusionProof.from_json(raw)
    else:
        proof = opts.ledger().inclusion_proof(ref, tree_size)
    proof.verify(_verified_root(opts, proof.tree_size))
    emit(
        opts,
        proof.to_json(),
        f"entry {proof.index} is included in the tree of size {proof.tree_size} "
        f"({len(proof.hashes)} hashes): verified\n{json.dumps(proof.to_json(), indent=2)}",
    )


@prove.command("consistency")
@home_options
@remote_options
@click.argument("old", type=click.IntRange(min=1))
@click.argument("new", type=click.IntRange(min=1), required=False)
def prove_consistency(opts: Options, old: int, new: int | None) -> None:
    """Prove that the log at size OLD is a prefix of the log at NEW (default: latest)."""
    if opts.remote:
        from ledger.client import Client

        client = Client(opts.remote, token=opts.token)
        raw = client.consistency_proof(old, new)
        proof = ConsistencyProof.from_json(raw)
    else:
        proof = opts.ledger().consistency_proof(old, new)
    proof.verify(_verified_root(opts, proof.old_size), _verified_root(opts, proof.new_size))
    emit(
        opts,
        proof.to_json(),
        f"size {proof.old_size} is consistent with size {proof.new_size} "
        f"({len(proof.hashes)} hashes): verified\n{json.dumps(proof.to_json(), indent=2)}",
    )


# -- audit ------------------------------------------------------------------------------


@cli.command()
@home_options
@click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A remembered checkpoint the log must extend; a missing FILE is an error "
    "(default: HOME/witness/checkpoint.txt, if present).",
)
@click.option(
    "--new-state",
    "new_state_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Start a new state FILE (must not exist): after a passing audit, remember the "
    "log's checkpoint there for later --state audits.",
)
def audit(opts: Options, state_file: Path | None, new_state_file: Path | None) -> int:
    """Re-verify the whole log from entry 0: hashes, chain, signatures, rules, nodes, roots.

    Also proves that the log extends the checkpoint remembered by `checkpoint
    --remember` (or `audit --new-state`), so a database restored from an older copy is
    caught. Exits 0 when everything holds, 1 with findings (each with its code and first
    bad index), 2 on an empty database or a missing --state file, 4 when it could not
    complete.
    """
    if state_file is not None and new_state_file is not None:
        raise UsageError("give --state (an existing file) or --new-state (a new one), not both")
    if state_file is not None and not state_file.is_file():
        raise UsageError(
            f"no remembered checkpoint at {state_file}: the rollback check cannot run; "
            f"to start a new state file, run: lotchain audit --new-state {state_file}"
        )
    if new_state_file is not None and new_state_file.exists():
        raise UsageError(
            f"{new_state_file} already exists; audit against it with --state {new_state_file}"
        )
    ledger = opts.ledger()
    require_log(ledger.store)
    remembered = None if new_state_file else _remembered(opts, state_file).load()
    size = ledger.size()
    if size > 1000 and sys.stderr.isatty() and not opts.json:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("auditing", total=size)
            report = audit_log(
                ledger.store,
                ledger.trust,
                progress=lambda n: bar.advance(task, n),
                remembered=remembered,
            )
    else:
        report = audit_log(ledger.store, ledger.trust, remembered=remembered)
    if opts.json:
        click.echo(json.dumps(report.to_json()))
    elif report.ok:
        click.echo(f"audit passed: {report.size} entries, {report.checkpoints} checkpoints")
    else:
        click.echo(
            f"audit FAILED: {len(report.findings)} finding(s); first bad index "
            f"{report.first_bad_index}"
        )
        for f in report.findings[:50]:
            click.echo(f"  [{f.code}] index {f.index} (step {f.step}): {f.message}")
    if report.ok and new_state_file is not None:
        Remembered(new_state_file, ledger.trust.log_vkey).save(ledger.checkpoint())
        if not opts.json:
            click.echo(f"remembered the checkpoint at size {report.size} in {new_state_file}")
    return 0 if report.ok else 1
