"""`coopledger record FILE`: applies a file of JSON command lines, in batches.

A file may hold a hundred thousand lines: on a terminal a progress bar shows how far it is and at
what rate; by default only refusals and the summary are printed (every line with --verbose, or as
JSON with --json), and the summary says on which lines the refusals are.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
import orjson
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text

from cli.session import Session
from cli.tables import console
from domain.errors import DomainError, InvalidCommand
from ledger.commands import loads, parse_envelope

# Commands saved per transaction. Tried up to the ledger's MAX_BATCH_COMMANDS: 500, 2,000, 3,000
# and 5,000 recorded at the same rate within the noise of this machine (the time is per command,
# in the ledger), while a bigger batch holds SQLite's write lock longer. Memory: the file's lines
# and one report per line are kept anyway, the batch adds its commands and events.
RECORD_BATCH = 500
LINES_LISTED = 20  # refused line numbers named in the summary


def _parse(text: str) -> Any:
    try:
        return parse_envelope(loads(text))
    except ValueError as exc:
        if isinstance(exc, DomainError):
            raise
        # The parser counts lines within the text it was given (one record line and its newline):
        # only the column means something here; the file's line is in the report.
        column = getattr(exc, "pos", None)
        where = f" at column {column + 1}" if column is not None else ""
        raise InvalidCommand("line", "json", f"not valid JSON{where}: {getattr(exc, 'msg', exc)}") from None


def record_lines(
    session: Session, lines: list[tuple[int, str]], progress: Callable[[int], None] | None = None
) -> list[dict[str, Any]]:
    """Parses and records numbered JSON lines in batches; returns one report per line."""
    reports: list[dict[str, Any] | None] = [None] * len(lines)
    batch: list[tuple[int, Any, str, str, str | None]] = []

    def flush(done: int) -> None:
        results = session.ledger.execute_batch([(cmd, key, actor, reason) for _i, cmd, key, actor, reason in batch])
        for (i, *_item), result in zip(batch, results, strict=True):
            reports[i] = {"line": lines[i][0], **result.as_dict()}
        batch.clear()
        if progress is not None:
            progress(done)

    for i, (number, text) in enumerate(lines):
        try:
            envelope = _parse(text)
        except DomainError as error:
            reports[i] = {"line": number, "accepted": False, "error": error.as_dict()}
            continue
        batch.append((i, envelope.command, envelope.idempotency_key, envelope.actor or "cli", envelope.reason))
        if len(batch) >= RECORD_BATCH:
            flush(i + 1)
    if batch:
        flush(len(lines))
    return [r for r in reports if r is not None]


def describe(report: dict[str, Any], lang: str = "en") -> str:
    fr = lang == "fr"
    if not report["accepted"]:
        e = report["error"]
        return (
            f"[red]{'refusée' if fr else 'refused'}[/red] {escape(e['field'])} ({escape(e['rule'])}){' :' if fr else ':'} "
            f"{escape(e['message'])}"
        )
    if fr:
        what = "déjà enregistrée" if report.get("duplicate") else "acceptée"
    else:
        what = "already recorded" if report.get("duplicate") else "accepted"
    entries = report.get("journal_numbers") or []
    suffix = f", {'écriture' if fr else 'entry'} {', '.join(map(str, entries))}" if entries else ""
    return f"[green]{what}[/green] {report['command']} (position {report['position']}{suffix})"


def _summary(count: int, name: str, new: int, refused: list[int], store: str, lang: str) -> list[str]:
    again = count - new - len(refused)
    listed = ", ".join(map(str, refused[:LINES_LISTED]))
    extra = len(refused) - LINES_LISTED
    if lang == "fr":
        said = [
            f"{count} commande(s) dans {name} : {new} enregistrée(s) maintenant, {again} déjà enregistrée(s), "
            f"{len(refused)} refusée(s) (base : {store})"
        ]
        if refused:
            said.append(f"lignes refusées : {listed}" + (f" et {extra} autres (--json les liste toutes)" if extra > 0 else ""))
        return said
    said = [
        f"{count} command(s) in {name}: {new} recorded now, {again} already recorded, {len(refused)} refused (store: {store})"
    ]
    if refused:
        said.append(f"refused lines: {listed}" + (f" and {extra} more (--json lists them all)" if extra > 0 else ""))
    return said


class RateColumn(ProgressColumn):
    """Commands per second, over rich's sliding window."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} commands/s" if task.speed else "", style="progress.data.speed")


def _recorded_with_a_bar(session: Session, lines: list[tuple[int, str]]) -> list[dict[str, Any]]:
    if not console.is_terminal or len(lines) < RECORD_BATCH:
        return record_lines(session, lines)
    with Progress(
        TextColumn("record"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("record", total=len(lines))
        return record_lines(session, lines, lambda done: bar.update(task, completed=done))


@click.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="Every line's report, as JSON.")
@click.option("--verbose", "-v", is_flag=True, help="Print every line's report, not only the refusals.")
@click.pass_obj
def record(session: Session, file: Any, as_json: bool, verbose: bool) -> None:
    """Apply a file of commands (JSON lines, each with its idempotency_key; '-' reads stdin).

    Prints each refusal with its line, field and rule, then a summary (every line with --verbose
    or --json); a progress bar on a terminal. Exit status 1 if any line was refused.
    """
    session.allow_create()
    lines = [(n, text) for n, text in enumerate(file, start=1) if text.strip() and not text.lstrip().startswith("#")]
    reports = _recorded_with_a_bar(session, lines)
    refused = [r["line"] for r in reports if not r["accepted"]]
    if as_json:
        sys.stdout.write(orjson.dumps(reports, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        word = "ligne" if session.lang == "fr" else "line"
        for report in reports:
            if verbose or not report["accepted"]:
                console.print(
                    f"{word} {report['line']}{' :' if session.lang == 'fr' else ':'} {describe(report, session.lang)}",
                    highlight=False,
                )
        new = sum(1 for r in reports if r["accepted"] and not r.get("duplicate"))
        for said in _summary(len(reports), getattr(file, "name", "-"), new, refused, session.config.describe(), session.lang):
            console.print(said, highlight=False)
    if refused:
        sys.exit(1)
