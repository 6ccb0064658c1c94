"""Rich tables for governance: the colleges' weights, a member's eligibility explained, a
resolution's tally. Pure rendering, beside cli/tables.py whose helpers they use."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from api.explain_text import reason_text, rule_name
from api.format import day, percent, percent_points
from cli.tables import console, new_table, t


def _pct(fraction: str | None, lang: str) -> str:
    """Percentage points, with the exact fraction beside a rounded value: 33,33 % (100/3)."""
    if fraction is None:
        return "—"
    shown = percent_points(fraction, lang)
    return shown if Fraction(fraction).denominator == 1 else f"{shown} ({fraction})"


def _yes(value: bool, lang: str) -> str:
    return t("yes" if value else "no", lang)


def governance(report: dict[str, Any], lang: str) -> None:
    fr = lang == "fr"
    title = f"{'Collèges' if fr else 'Colleges'} – {report['coop']} – {day(report['as_of'], lang)}"
    table = new_table(
        title,
        [
            ("college", "left"),
            ("name", "left"),
            ("statutory", "right"),
            ("members", "right"),
            ("eligible", "right"),
            ("effective", "right"),
            ("per member", "right"),
        ],
        lang,
    )
    for c in report["colleges"]:
        table.add_row(
            c["code"],
            c["name"],
            _pct(c["statutory_weight"], lang),
            str(c["members"]),
            str(c["eligible_members"]),
            _pct(c["effective_weight"], lang),
            _pct(c["member_weight"], lang),
        )
    console.print(table)
    p, fee = report["policy"], report["fee_year"]
    parts = (
        (
            f"statuts depuis le {day(report['statutes_since'], lang)}",
            f"cotisation {fee} exigée : {_yes(p['require_fee_paid'], lang)}",
            f"parts minimales : {p['min_shares']}",
            f"collèges vides : {_EMPTY_FR.get(p['empty_college_policy'], p['empty_college_policy'])}",
            f"non attribué : {_pct(report['unassigned_weight'], lang)}",
            f"total des votants éligibles : {_pct(report['voters_total_weight'], lang)}",
        )
        if fr
        else (
            f"statutes since {day(report['statutes_since'], lang)}",
            f"{fee} fee required: {_yes(p['require_fee_paid'], lang)}",
            f"min shares: {p['min_shares']}",
            f"empty colleges: {p['empty_college_policy']}",
            f"unassigned: {_pct(report['unassigned_weight'], lang)}",
            f"eligible voters' total: {_pct(report['voters_total_weight'], lang)}",
        )
    )
    console.print("; ".join(parts), highlight=False)
    for flag in report["flags"]:
        console.print(f"[bold red]⚠ {flag['rule']}[/bold red]: {flag['message']}")


_EMPTY_FR = {"redistribute": "poids réparti entre les autres", "unassigned": "poids non attribué"}


def explanation(report: dict[str, Any], lang: str) -> None:
    fr = lang == "fr"
    verdict = (
        ("[green]peut voter[/green]" if report["eligible"] else "[red]ne peut pas voter[/red]")
        if fr
        else ("[green]eligible[/green]" if report["eligible"] else "[red]not eligible[/red]")
    )
    college = f", {'collège' if fr else 'college'} {report['college']}" if report.get("college") else ""
    when = f"{'le' if fr else 'on'} {day(report['as_of'], lang)}"
    console.print(
        f"{report['member_id']} ({report.get('name') or '—'}) {when} : {verdict}{college}"
        if fr
        else f"{report['member_id']} ({report.get('name') or '—'}) {when}: {verdict}{college}",
        highlight=False,
    )
    for reason in report["reasons"]:
        console.print(
            f"  {'✔' if reason['ok'] else '✘'} {rule_name(reason['rule'], lang)} : {reason_text(reason['detail'], lang)}"
            if fr
            else f"  {'✔' if reason['ok'] else '✘'} {rule_name(reason['rule'], lang)}: {reason_text(reason['detail'], lang)}",
            highlight=False,
        )


def tally(report: dict[str, Any], lang: str) -> None:
    fr = lang == "fr"
    title = f"{report['resolution_id']} – {report['title']} ({t(report['assembly'], lang)}, {day(report['vote_date'], lang)})"
    table = new_table(
        title,
        [
            ("college", "left"),
            ("for", "right"),
            ("against", "right"),
            ("abstain", "right"),
            ("blank", "right"),
            ("share for", "right"),
            ("weight used", "right"),
            ("contribution", "right"),
        ],
        lang,
    )
    for c in report["colleges"]:
        table.add_row(
            c["code"],
            str(c["for"]),
            str(c["against"]),
            str(c["abstain"]),
            str(c["blank"]),
            percent(c["share_for"], lang),
            _pct(c["weight_used"], lang),
            percent(c["contribution"], lang),
        )
    console.print(table)
    rule = ">" if report["strict"] else "≥"
    result, needed = percent(report["result"], lang), percent(report["threshold"], lang)
    if fr:
        verdict = "[green]ADOPTÉE[/green]" if report["adopted"] else "[red]REJETÉE[/red]"
        console.print(
            f"résultat {result} {rule} {needed} requis : {verdict} ; portée par "
            f"{', '.join(report['carried_by']) or 'aucun collège'}",
            highlight=False,
        )
    else:
        verdict = "[green]ADOPTED[/green]" if report["adopted"] else "[red]REJECTED[/red]"
        console.print(
            f"result {result} {rule} {needed} needed: {verdict}; carried by {', '.join(report['carried_by']) or 'no college'}",
            highlight=False,
        )
    # For the minutes: the head of the event chain the tally was read at (coopledger verify --head).
    console.print(f"{'tête de chaîne' if fr else 'chain head'} {report['head']}", highlight=False, soft_wrap=True)
