"""Rich tables for the command line. Pure rendering: data comes from the projections."""

from __future__ import annotations

import sys
from fractions import Fraction
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.format import amount

# Piped output (files, CI logs) gets wide tables rather than 80 squeezed columns.
console = Console(width=None if sys.stdout.isatty() else 160)


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console)


def _table(title: str, columns: list[tuple[str, str]]) -> Table:
    table = Table(title=title)
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    return table


def _percent(weight: str) -> str:
    value = Fraction(weight)
    return f"{value.numerator}%" if value.denominator == 1 else f"{float(value):.2f}%"


def coops(summaries: list[dict[str, Any]], lang: str) -> None:
    table = _table("Coopératives" if lang == "fr" else "Cooperatives", [
        ("coop", "left"), ("name", "left"), ("form", "left"), ("founded", "left"),
        ("college weights", "left"), ("members", "right"), ("entries", "right"),
    ])
    for row in summaries:
        weights = "/".join(_percent(c["weight"]) for c in row["colleges"])
        table.add_row(row["coop"], row["name"], row["legal_form"], row["founded_on"], weights,
                      f"{row['active_members']}/{row['members']}", str(row["journal_entries"]))
    console.print(table)


def trial_balance(tb: dict[str, Any], lang: str) -> None:
    fr = lang == "fr"
    title = f"{'Balance générale' if fr else 'Trial balance'} – {tb['coop']}" + (f" – {tb['as_of']}" if tb["as_of"] else "")
    table = _table(title, [("account", "left"), ("label", "left"), ("unit", "left"),
                           ("debit", "right"), ("credit", "right"), ("balance", "right")])
    for row in tb["accounts"]:
        unit = row["unit"]
        table.add_row(row["account"], row["label_fr" if fr else "label_en"] or "", unit, amount(row["debit"], unit, lang),
                      amount(row["credit"], unit, lang), amount(row["balance"], unit, lang))
    for unit, totals in tb["totals"].items():
        table.add_row("", "Total", unit, amount(totals["debit"], unit, lang), amount(totals["credit"], unit, lang),
                      amount(totals["debit"] - totals["credit"], unit, lang), style="bold")
    console.print(table)


def journal(coop: str, entries: list[dict[str, Any]], lang: str) -> None:
    fr = lang == "fr"
    table = _table(f"Journal – {coop}", [("n°", "right"), ("date", "left"), ("label", "left"), ("account", "left"),
                                         ("party", "left"), ("debit", "right"), ("credit", "right")])
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
            table.add_row(str(entry["number"]) if head else "", entry["effective_date"] if head else "",
                          entry["label"] + note if head else "", p["account"], p["party"] or "", debit, credit,
                          end_section=i == last)
    console.print(table)


def statement(result: dict[str, Any], lang: str) -> None:
    unit = result["unit"]
    title = f"{result['account']} – {result['coop']}" + (f" – {result['party']}" if result["party"] else "")
    table = _table(title, [("date", "left"), ("n°", "right"), ("label", "left"), ("party", "left"),
                           ("debit", "right"), ("credit", "right"), ("balance", "right")])
    for line in result["lines"]:
        table.add_row(line["effective_date"], str(line["number"]), line["label"], line["party"] or "",
                      amount(line["debit"], unit, lang) if line["debit"] else "",
                      amount(line["credit"], unit, lang) if line["credit"] else "",
                      amount(line["balance"], unit, lang))
    console.print(table)


def members(rows: list[dict[str, Any]], year: int, lang: str) -> None:
    title = f"Membres – cotisation {year}" if lang == "fr" else f"Members – {year} fee"
    table = _table(title, [("coop", "left"), ("member", "left"), ("name", "left"), ("college", "left"),
                           ("status", "left"), ("shares", "right"), ("fee called", "right"), ("paid", "right"),
                           ("standing", "left")])
    for r in rows:
        called = amount(r["fee_called_cents"], "EUR", lang) if r["fee_called_cents"] is not None else "—"
        paid = amount(r["fee_paid_cents"], "EUR", lang) if r["fee_paid_cents"] is not None else "—"
        table.add_row(r["coop"], r["member_id"], r["name"], r["college"], r["status"], str(r["shares"]), called, paid,
                      "✔" if r["in_good_standing"] else "")
    console.print(table)


def _pct(fraction: str | None) -> str:
    if fraction is None:
        return "—"
    value = Fraction(fraction)
    shown = f"{float(value):.2f}%"
    return shown if value.denominator == 1 else f"{shown} ({fraction})"


def governance(report: dict[str, Any], lang: str) -> None:
    fr = lang == "fr"
    title = f"{'Collèges' if fr else 'Colleges'} – {report['coop']} – {report['as_of']}"
    table = _table(title, [("college", "left"), ("name", "left"), ("statutory", "right"), ("members", "right"),
                           ("eligible", "right"), ("effective", "right"), ("per member", "right")])
    for c in report["colleges"]:
        table.add_row(c["code"], c["name"], _pct(c["statutory_weight"]), str(c["members"]), str(c["eligible_members"]),
                      _pct(c["effective_weight"]), _pct(c["member_weight"]))
    console.print(table)
    policy = report["policy"]
    console.print(f"statutes since {report['statutes_since']}; fee {report['fee_year']} required: {policy['require_fee_paid']}; "
                  f"min shares: {policy['min_shares']}; empty colleges: {policy['empty_college_policy']}; "
                  f"unassigned: {_pct(report['unassigned_weight'])}; eligible voters' total: {_pct(report['voters_total_weight'])}")
    for flag in report["flags"]:
        console.print(f"[bold red]⚠ {flag['rule']}[/bold red]: {flag['message']}")


def explanation(report: dict[str, Any]) -> None:
    verdict = "[green]eligible[/green]" if report["eligible"] else "[red]not eligible[/red]"
    console.print(f"{report['member_id']} ({report.get('name', '?')}) on {report['as_of']}: {verdict}"
                  + (f", college {report['college']}" if report.get("college") else ""))
    for reason in report["reasons"]:
        console.print(f"  {'✔' if reason['ok'] else '✘'} {reason['rule']}: {reason['detail']}")


def tally(report: dict[str, Any]) -> None:
    table = _table(f"{report['resolution_id']} – {report['title']} ({report['assembly']}, {report['vote_date']})", [
        ("college", "left"), ("for", "right"), ("against", "right"), ("abstain", "right"), ("blank", "right"),
        ("share for", "right"), ("weight used", "right"), ("contribution", "right")])
    for c in report["colleges"]:
        share = f"{float(Fraction(c['share_for'])) * 100:.2f}%" if c["share_for"] is not None else "—"
        table.add_row(c["code"], str(c["for"]), str(c["against"]), str(c["abstain"]), str(c["blank"]), share,
                      _pct(c["weight_used"]), f"{float(Fraction(c['contribution'])) * 100:.2f}%")
    console.print(table)
    rule = ">" if report["strict"] else "≥"
    verdict = "[green]ADOPTED[/green]" if report["adopted"] else "[red]REJECTED[/red]"
    console.print(f"result {report['result_percent']}% {rule} {float(Fraction(report['threshold'])) * 100:.2f}% needed: {verdict}; "
                  f"carried by {', '.join(report['carried_by']) or 'no college'}")
    # For the minutes: the head of the event chain the tally was read at (coopledger verify --head).
    console.print(f"chain head {report['head']}", highlight=False, soft_wrap=True)
