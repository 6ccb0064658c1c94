"""`coopledger sepa batch`, `sepa file` and `sepa batches`: SEPA direct debit of membership fees
(docs/rules.md "SEPA direct debit"). Mandates, the creditor identifier, collections and returns are
commands like any other: `coopledger record` or the API's command route."""

from __future__ import annotations

import sys
import uuid
from datetime import date
from pathlib import Path

import click
import orjson

from cli.session import Session
from domain.money import Unit, format_minor
from domain.sepa import IssueDirectDebits, today
from domain.sepa_bank import ConfirmDirectDebitReturn
from domain.sepa_rules import earliest_collection
from ledger.sepa_files import batch_file, file_totals
from projections.sepa import batches


@click.group("sepa")
def sepa() -> None:
    """SEPA direct debit of membership fees."""


@sepa.command("batch")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--year", required=True, type=int, help="The fiscal year whose fees are collected.")
@click.option("--collection-date", "collection_date", default=None,
              help="Due date YYYY-MM-DD (default: the earliest the SEPA lead time allows).")  # fmt: skip
@click.option("--batch", "batch_id", default=None, help="Batch id (default: PRLV-<year>-<short random>).")
@click.option("--key", default=None, help="Idempotency key (default: a new one).")
@click.pass_obj
def issue(session: Session, coop: str, year: int, collection_date: str | None, batch_id: str | None, key: str | None) -> None:
    """Issue a direct-debit batch: every member with a valid mandate and a fee of YEAR still due (treasurer)."""
    slug = session.one_coop(coop)
    try:
        due = date.fromisoformat(collection_date) if collection_date else earliest_collection(today())
    except ValueError:
        raise click.BadParameter(f"{collection_date!r} is not a date (YYYY-MM-DD)", param_hint="--collection-date") from None
    batch_id = batch_id or f"PRLV-{year}-{uuid.uuid4().hex[:8].upper()}"
    command = IssueDirectDebits(coop=slug, batch_id=batch_id, year=year, collection_date=due)
    result = session.ledger.execute(command, key or f"sepa-batch-{uuid.uuid4()}")
    if result.error is not None:
        raise result.error
    batch = session.ledger.cooperative(slug).sepa.batches[batch_id]  # type: ignore[attr-defined]
    click.echo(
        f"batch {batch_id}: {len(batch.items)} debit(s), {format_minor(batch.total_cents, Unit.EUR)} EUR due on {due}"
        f" (file: coopledger sepa file --coop {slug} --batch {batch_id} --out {batch_id}.xml)"
    )


@sepa.command("return")
@click.argument("line_id")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--key", default=None, help="Idempotency key (default: a new one).")
@click.pass_obj
def confirm_return(session: Session, line_id: str, coop: str, key: str | None) -> None:
    """Confirm a statement's return line (coopledger bank lines): the debit it returns is undone, the fee due again."""
    slug = session.one_coop(coop)
    result = session.ledger.execute(ConfirmDirectDebitReturn(coop=slug, line_id=line_id), key or f"sepa-return-{line_id}")
    if result.error is not None:
        raise result.error
    click.echo(f"line {line_id}: the direct debit it returns is recorded as returned (entry {result.journal_numbers[0]})")


@sepa.command("file")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--batch", "batch_id", required=True, help="Batch id.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The XML file to write.")
@click.pass_obj
def write_file(session: Session, coop: str, batch_id: str, out: Path) -> None:
    """Write a batch as the pain.008.001.02 file the bank takes (validated against its XSD)."""
    slug = session.one_coop(coop)
    xml = batch_file(session.ledger, slug, batch_id)
    out.write_bytes(xml)
    totals = file_totals(xml)
    click.echo(
        f"{out}: {totals['transactions']} transaction(s), {totals['control_sum']} EUR, creditor {totals['creditor_ids'][0]}"
    )


@sepa.command("batches")
@click.option("--coop", required=True, help="Cooperative id.")
@click.pass_obj
def list_batches(session: Session, coop: str) -> None:
    """The batches with their items' status, in JSON."""
    slug = session.one_coop(coop)
    data = {"coop": slug, "batches": batches(session.current().db, slug)}
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def register(group: click.Group) -> None:
    group.add_command(sepa)
