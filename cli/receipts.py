"""`coopledger receipts issue | correct | list | pdf`: the tax receipts (reçus fiscaux) of a gift
year (domain/tax_receipts.py; docs/rules.md, "Tax receipts")."""

from __future__ import annotations

import getpass
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import click
import orjson

from api.format import amount, day
from cli.session import Session
from cli.tables import console, new_table
from domain.tax_receipts import MAX_PER_RUN, CorrectTaxReceipt, IssueTaxReceipts
from ledger.receipt_pdf import render_tax_receipt
from projections.tax_receipts import tax_receipts

STATUS_FR = {"issued": "émis", "replaced": "remplacé", "cancelled": "annulé"}


def _actor(given: str | None) -> str:
    if given:
        return given
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _date(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else date.today()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--date") from None


def year_receipts(session: Session, coop: str, year: int) -> dict[str, Any]:
    """Every receipt of the gift year (all pages), with the flagged gifts."""
    page = tax_receipts(session.ledger.db, coop, year, limit=1000)
    found = list(page["receipts"])
    for _ in range(10_000):  # bounded paging
        if page["next_after"] is None:
            break
        page = tax_receipts(session.ledger.db, coop, year, after=page["next_after"], limit=1000)
        found += page["receipts"]
    return {**page, "receipts": found, "next_after": None}


@click.group("receipts")
def receipts() -> None:
    """Tax receipts (reçus fiscaux) for the gifts of a calendar year."""


@receipts.command("issue")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--year", type=int, required=True, help="Calendar year of the gifts.")
@click.option("--date", "issued_on", default=None, help="Issue date YYYY-MM-DD (default: today).")
@click.option("--actor", default=None, help="Who issues (default: cli:<user running the command>).")
@click.option("--key", default=None, help="Idempotency key (default: a new one).")
@click.pass_obj
def issue(session: Session, coop: str, year: int, issued_on: str | None, actor: str | None, key: str | None) -> None:
    """Issue one receipt per donor for the year's gifts not receipted yet (treasurer)."""
    slug = session.one_coop(coop)
    command = IssueTaxReceipts(coop=slug, year=year, issued_on=_date(issued_on))
    key = key or f"receipts-{slug}-{year}-{uuid.uuid4()}"
    issued = 0
    for run in range(1_000):  # a command issues at most MAX_PER_RUN receipts: run again for the rest
        result = session.ledger.execute(command, key if run == 0 else f"{key}-{run}", actor=_actor(actor))
        if result.error is not None:
            raise result.error
        issued += result.events.count("TaxReceiptIssued")
        if len(result.events) < MAX_PER_RUN:
            break
    session.current()
    fr = session.lang == "fr"
    if not issued:
        click.echo(
            f"{slug} {year} : chaque don nominatif a déjà son reçu, rien d'émis."
            if fr
            else f"{slug} {year}: no gift left without a receipt, nothing issued."
        )
        return
    new = year_receipts(session, slug, year)["receipts"][-issued:]
    click.echo(
        f"{slug} {year} : {issued} reçu(s) émis, {new[0]['receipt_number']} à {new[-1]['receipt_number']}."
        if fr
        else f"{slug} {year}: {issued} receipt(s) issued, {new[0]['receipt_number']} to {new[-1]['receipt_number']}."
    )


@receipts.command("correct")
@click.argument("receipt_number")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--date", "issued_on", default=None, help="Issue date YYYY-MM-DD (default: today).")
@click.option("--actor", default=None, help="Who issues (default: cli:<user running the command>).")
@click.option("--key", default=None, help="Idempotency key (default: a new one).")
@click.pass_obj
def correct(session: Session, receipt_number: str, coop: str, issued_on: str | None, actor: str | None, key: str | None) -> None:
    """Replace a receipt one of whose gifts was reversed (a new number), or cancel it (treasurer)."""
    slug = session.one_coop(coop)
    command = CorrectTaxReceipt(coop=slug, receipt_number=receipt_number, issued_on=_date(issued_on))
    result = session.ledger.execute(command, key or f"receipt-fix-{slug}-{uuid.uuid4()}", actor=_actor(actor))
    if result.error is not None:
        raise result.error
    session.current()
    click.echo(
        f"{receipt_number} cancelled: every gift it covered was reversed."
        if "TaxReceiptCancelled" in result.events
        else f"{receipt_number} replaced (position {result.position}): see `coopledger receipts list`."
    )


@receipts.command("list")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--year", type=int, required=True, help="Calendar year of the gifts.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_receipts(session: Session, coop: str, year: int, as_json: bool) -> None:
    """The year's receipts (number, donor, article, total, status) and those flagged for correction."""
    slug = session.one_coop(coop)
    found = year_receipts(session, slug, year)
    if as_json:
        sys.stdout.write(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    fr, lang = session.lang == "fr", session.lang
    table = new_table(
        f"Reçus fiscaux {year} – {slug}" if fr else f"Tax receipts {year} – {slug}",
        [
            ("number" if not fr else "numéro", "left"),
            ("donor" if not fr else "donateur", "left"),
            ("article", "left"),
            ("gifts" if not fr else "dons", "right"),
            ("total", "right"),
            ("issued" if not fr else "émis le", "left"),
            ("status", "left"),
        ],
        lang,
    )
    for r in found["receipts"]:
        status = STATUS_FR[r["status"]] if fr else r["status"]
        if r["replaced_by"]:
            status += f" → {r['replaced_by']}"
        table.add_row(
            r["receipt_number"],
            f"{r['donor_name']} ({r['donor_id']})",
            f"CGI {r['article']}",
            str(len(r["gifts"])),
            amount(r["total_cents"], "EUR", lang),
            day(r["issued_on"], lang, "short"),
            status,
        )
    console.print(table)
    for f in found["flagged"]:
        number, gift, on = f["receipt_number"], f["gift_id"], day(f["reversed_on"], lang)
        console.print(
            f"à corriger : le reçu {number} couvre le don {gift}, annulé le {on} (coopledger receipts correct {number})"
            if fr
            else f"to correct: receipt {number} covers gift {gift}, reversed on {on} (coopledger receipts correct {number})",
            highlight=False,
        )


@receipts.command("pdf")
@click.option("--coop", required=True, help="Cooperative id.")
@click.option("--year", type=int, required=True, help="Calendar year of the gifts.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the PDFs.")
@click.pass_obj
def pdf(session: Session, coop: str, year: int, out_dir: Path) -> None:
    """Write each receipt of the year as a PDF, one file per receipt; never overwrites a file."""
    slug = session.one_coop(coop)
    found = year_receipts(session, slug, year)["receipts"]
    if not found:
        raise click.ClickException(f"{slug} has issued no tax receipt for {year}: `coopledger receipts issue` first")
    targets = [(r, out_dir / f"recu-fiscal-{slug}-{r['receipt_number']}.pdf") for r in found]
    existing = [str(path) for _r, path in targets if path.exists()]
    if existing:
        raise click.ClickException(
            f"{len(existing)} file(s) already exist, e.g. {existing[0]}: nothing written (choose another --out or move them)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for receipt, path in targets:
        with path.open("xb") as file:  # "x": never replaces a file created meanwhile
            file.write(render_tax_receipt(receipt))
    click.echo(f"{len(targets)} PDF(s) written to {out_dir}")


def register(group: click.Group) -> None:
    group.add_command(receipts)
