"""Rich tables for the command line. Pure rendering: data comes from the projections."""

from __future__ import annotations

import sys
from fractions import Fraction
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.format import amount, day, percent_points

# Column headers and short words, French beside English (the English text is the key).
FRENCH = {
    "coop": "coop",
    "name": "nom",
    "form": "forme",
    "founded": "fondée le",
    "college weights": "poids des collèges",
    "members": "membres",
    "entries": "écritures",
    "account": "compte",
    "label": "libellé",
    "unit": "unité",
    "debit": "débit",
    "credit": "crédit",
    "balance": "solde",
    "date": "date",
    "party": "tiers",
    "member": "membre",
    "college": "collège",
    "status": "statut",
    "shares": "parts",
    "fee called": "cotisation appelée",
    "paid": "payé",
    "standing": "à jour",
    "statutory": "statutaire",
    "eligible": "éligibles",
    "effective": "effectif",
    "per member": "par membre",
    "for": "pour",
    "against": "contre",
    "abstain": "abstention",
    "blank": "blanc",
    "share for": "part pour",
    "weight used": "poids retenu",
    "contribution": "contribution",
    "key": "clé",
    "role": "rôle",
    "coops": "coops",
    "state": "état",
    "created": "créée le",
    "revoked": "révoquée le",
    "active": "active",
    "yes": "oui",
    "no": "non",
    "Total": "Total",
    "ordinary": "ordinaire",
    "extraordinary": "extraordinaire",
    "recorded at (UTC)": "enregistré le (UTC)",
    "actor": "auteur",
    "kind": "nature",
    "entry": "écriture",
    "reason / label": "motif / libellé",
    "idempotency key": "clé d'idempotence",
    "position": "position",
    "member status active": "actif",
    "member status resigned": "démissionnaire",
    "member status excluded": "exclu",
    "member status federated": "fédéré",
    "member status transferred": "transféré",
}


def t(text: str, lang: str) -> str:
    return FRENCH.get(text, text) if lang == "fr" else text


# Piped output (files, CI logs) gets wide tables rather than 80 squeezed columns.
console = Console(width=None if sys.stdout.isatty() else 160)


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console)


def new_table(title: str, columns: list[tuple[str, str]], lang: str) -> Table:
    table = Table(title=title)
    for name, justify in columns:
        table.add_column(t(name, lang), justify=justify, overflow="fold")  # type: ignore[arg-type]
    return table


def _percent(weight: str, lang: str) -> str:
    """A college weight in percentage points: whole numbers without decimals (40 %), else two."""
    value = Fraction(weight)
    return percent_points(value, lang, digits=0 if value.denominator == 1 else 2)


def coops(summaries: list[dict[str, Any]], lang: str) -> None:
    table = new_table(
        "Coopératives" if lang == "fr" else "Cooperatives",
        [
            ("coop", "left"),
            ("name", "left"),
            ("form", "left"),
            ("founded", "left"),
            ("college weights", "left"),
            ("members", "right"),
            ("entries", "right"),
        ],
        lang,
    )
    for row in summaries:
        weights = " / ".join(_percent(c["weight"], lang) for c in row["colleges"])
        table.add_row(
            row["coop"],
            row["name"],
            row["legal_form"],
            day(row["founded_on"], lang, "short"),
            weights,
            f"{row['active_members']}/{row['members']}",
            str(row["journal_entries"]),
        )
    console.print(table)


def trial_balance(tb: dict[str, Any], lang: str) -> None:
    fr = lang == "fr"
    title = f"{'Balance générale' if fr else 'Trial balance'} – {tb['coop']}" + (f" – {tb['as_of']}" if tb["as_of"] else "")
    table = new_table(
        title,
        [("account", "left"), ("label", "left"), ("unit", "left"), ("debit", "right"), ("credit", "right"), ("balance", "right")],
        lang,
    )
    for row in tb["accounts"]:
        unit = row["unit"]
        table.add_row(
            row["account"],
            row["label_fr" if fr else "label_en"] or "",
            unit,
            amount(row["debit"], unit, lang),
            amount(row["credit"], unit, lang),
            amount(row["balance"], unit, lang),
        )
    for unit, totals in tb["totals"].items():
        table.add_row(
            "",
            "Total",
            unit,
            amount(totals["debit"], unit, lang),
            amount(totals["credit"], unit, lang),
            amount(totals["debit"] - totals["credit"], unit, lang),
            style="bold",
        )
    console.print(table)


def journal(coop: str, entries: list[dict[str, Any]], lang: str) -> None:
    fr = lang == "fr"
    table = new_table(
        f"Journal – {coop}",
        [
            ("n°", "right"),
            ("date", "left"),
            ("label", "left"),
            ("account", "left"),
            ("party", "left"),
            ("debit", "right"),
            ("credit", "right"),
        ],
        lang,
    )
    for entry in entries:
        note = ""
        if entry["reverses"]:
            note += f" ({'annule' if fr else 'reverses'} {entry['reverses']})"
        if entry["reversed_by"]:
            note += f" ({'annulée par' if fr else 'reversed by'} {entry['reversed_by']})"
        last = len(entry["postings"]) - 1
        for i, p in enumerate(entry["postings"]):
            debit = amount(p["amount"], p["unit"], lang) if p["amount"] > 0 else ""
            credit = amount(-p["amount"], p["unit"], lang) if p["amount"] < 0 else ""
            head = i == 0
            table.add_row(
                str(entry["number"]) if head else "",
                day(entry["effective_date"], lang, "short") if head else "",
                entry["label"] + note if head else "",
                p["account"],
                p["party"] or "",
                debit,
                credit,
                end_section=i == last,
            )
    console.print(table)


def statement(result: dict[str, Any], lang: str) -> None:
    unit = result["unit"]
    title = f"{result['account']} – {result['coop']}" + (f" – {result['party']}" if result["party"] else "")
    table = new_table(
        title,
        [
            ("date", "left"),
            ("n°", "right"),
            ("label", "left"),
            ("party", "left"),
            ("debit", "right"),
            ("credit", "right"),
            ("balance", "right"),
        ],
        lang,
    )
    for line in result["lines"]:
        table.add_row(
            day(line["effective_date"], lang, "short"),
            str(line["number"]),
            line["label"],
            line["party"] or "",
            amount(line["debit"], unit, lang) if line["debit"] else "",
            amount(line["credit"], unit, lang) if line["credit"] else "",
            amount(line["balance"], unit, lang),
        )
    console.print(table)


def members(rows: list[dict[str, Any]], year: int, lang: str) -> None:
    title = f"Membres – cotisation {year}" if lang == "fr" else f"Members – {year} fee"
    table = new_table(
        title,
        [
            ("coop", "left"),
            ("member", "left"),
            ("name", "left"),
            ("college", "left"),
            ("status", "left"),
            ("shares", "right"),
            ("fee called", "right"),
            ("paid", "right"),
            ("standing", "left"),
        ],
        lang,
    )
    for r in rows:
        called = amount(r["fee_called_cents"], "EUR", lang) if r["fee_called_cents"] is not None else "—"
        paid = amount(r["fee_paid_cents"], "EUR", lang) if r["fee_paid_cents"] is not None else "—"
        status = FRENCH.get(f"member status {r['status']}", r["status"]) if lang == "fr" else r["status"]
        table.add_row(
            r["coop"],
            r["member_id"],
            r["name"],
            r["college"],
            status,
            str(r["shares"]),
            called,
            paid,
            "✔" if r["in_good_standing"] else "",
        )
    console.print(table)
