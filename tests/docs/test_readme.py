"""The README, run as a new user runs it: `make demo` into a fresh folder's default store, then
every `coopledger` line of every `sh` block, top to bottom, as written, each to exit status 0.
Optional parts (`[--json | --csv]`) are run with their first choice; the README's JSON block is
the `commands.jsonl` its record line reads; `<N:HASH>` is the cooperative's head as verify gives
it. Commands that run until stopped (serve, follow, project) are left out by name, and only they;
lines of other programs (make, curl, hledger) are not this test's (tests/cli/test_serve.py serves;
the suite itself is `make test`)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import build

README = Path(__file__).resolve().parents[2] / "README.md"
PROGRAM = ".venv/bin/coopledger"
LIVE = {"serve", "follow", "project"}  # run until stopped
NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README.read_text(encoding="utf-8"), flags=re.M | re.S)


def commands() -> list[tuple[dict[str, str], list[str]]]:
    """(environment, arguments) of every coopledger line of the sh blocks, in order."""
    found = []
    for block in blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\[([^\]]*)\]", lambda m: m.group(1).split("|")[0].strip(), line)
            words = shlex.split(line, comments=True)
            env = {}
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                name, _, value = words.pop(0).partition("=")
                env[name] = value
            if words and words[0] == PROGRAM:
                found.append((env, words[1:]))
    return found


ROWS = ("events", "lines", "accounts", "entries")  # where a reading command's rows are, when in an object


def _holds_something(data: object) -> bool:
    """Not empty, and no list of rows in it is empty."""
    if isinstance(data, list):
        return bool(data) and all(_holds_something(x) for x in data)
    if isinstance(data, dict):
        return bool(data) and all(data[k] for k in ROWS if isinstance(data.get(k), list))
    return True


def test_every_readme_command_runs_on_a_fresh_demo_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COOPLEDGER_DATABASE_URL", raising=False)
    (tmp_path / "commands.jsonl").write_text(blocks("json")[0], encoding="utf-8")
    cli = build()
    demo = CliRunner().invoke(cli, ["demo"], catch_exceptions=False)  # what `make demo` runs
    assert demo.exit_code == 0, demo.output

    ran, left_out = [], []
    for env, args in commands():
        if args[0] in LIVE and "--once" not in args:
            left_out.append(args[0])
            continue
        if "<N:HASH>" in args:  # the head a treasurer copied into the minutes: this store's own
            (report,) = json.loads(CliRunner().invoke(cli, ["verify", "--coop", args[args.index("--coop") + 1], "--json"]).stdout)
            args = [report["head"] if a == "<N:HASH>" else a for a in args]
        result = CliRunner().invoke(cli, args, env=env or None, catch_exceptions=False)
        assert result.exit_code == 0, f"`coopledger {shlex.join(args)}` exited {result.exit_code}:\n{result.output[-3000:]}"
        if "--json" in args:  # an example that shows nothing would surprise as much as one that fails
            assert _holds_something(json.loads(result.stdout)), f"`coopledger {shlex.join(args)}` shows nothing"
        ran.append(args[0])
    assert sorted(set(left_out)) == sorted(LIVE) and len(ran) >= 20, (ran, left_out)

    said = re.search(r"loads (\w+) demo cooperatives", README.read_text(encoding="utf-8"))
    assert said is not None
    listed = CliRunner().invoke(cli, ["coops", "--json"]).output
    assert listed.count('"coop":') == NUMBERS[said.group(1)], listed
