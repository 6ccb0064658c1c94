"""What generated clients see: the app's OpenAPI document, read by the tools client authors use.

openapi-typescript turns the document into TypeScript types, and `tsc --strict` type-checks two
small client scripts against them: one reads a balance (its amount must be a string, never a
number), one sends PayFee and reads the position of the answer. Redocly's and Spectral's linters
(their recommended rulesets, redocly.yaml and .spectral.yaml) must find no error in the document.

The tools are Node programs pinned in tools/node (`make tools` installs them). Outside CI a
machine without them skips these tests; with CI=true their absence fails the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from ledger.store import StoreConfig

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "tools" / "node" / "node_modules" / ".bin"
NODE_TOOLS = ("openapi-typescript", "tsc", "redocly", "spectral")
TOOL_TIMEOUT_S = 300  # a hang guard: each tool takes seconds, under a minute on a loaded 2-core machine
# Both tools otherwise phone home (usage statistics, a check for a newer version) and print banners.
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}

BALANCE_TS = """\
import type { paths } from "./api";

type Balance = paths["/v1/coops/{coop}/accounts/{account}/balance"]["get"]["responses"][200]["content"]["application/json"];

export async function readBalance(base: string, key: string, coop: string, account: string): Promise<string> {
  const response = await fetch(`${base}/v1/coops/${coop}/accounts/${account}/balance`, {
    headers: { Authorization: `Bearer ${key}` },
  });
  const answer = (await response.json()) as Balance;
  const balance: string = answer.balance;
  // @ts-expect-error an Amount is a decimal string, never a number a float would round
  const rounded: number = answer.balance;
  const unit: "EUR" | "CREDIT" | "HOUR" = answer.unit;
  // @ts-expect-error no unit beyond the three the ledger keeps
  const foreign: typeof answer.unit = "USD";
  const party: string | null = answer.party;
  const asOf: string | null = answer.as_of;
  const where: string = `${answer.coop}/${answer.account}`;
  return `${where} ${party ?? "all parties"} ${asOf ?? "today"}: ${balance} ${unit}`;
}
"""

COMMAND_TS = """\
import type { components, paths } from "./api";

type PayFeeBody = components["schemas"]["PayFeeBody"];
type PayFeeRoute = paths["/v1/coops/{coop}/commands/PayFee"]["post"];
type Accepted = PayFeeRoute["responses"][201]["content"]["application/json"];

export async function payFee(base: string, key: string, coop: string, idempotencyKey: string): Promise<number> {
  const body: PayFeeBody = { member_id: "BEN-03", year: 2025, amount: "20.00", effective_date: "2025-11-15" };
  const sent: PayFeeRoute["requestBody"]["content"]["application/json"] = body;
  // @ts-expect-error effective_date is required
  const incomplete: PayFeeBody = { member_id: "BEN-03", year: 2025, amount: "20.00" };
  const response = await fetch(`${base}/v1/coops/${coop}/commands/PayFee`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Idempotency-Key": idempotencyKey, "Content-Type": "application/json" },
    body: JSON.stringify(sent),
  });
  const answer = (await response.json()) as Accepted;
  const position: number = answer.position;
  // @ts-expect-error a position is a number
  const written: string = answer.position;
  return position;
}
"""
# tsc --pretty false writes one diagnostic per line: `balance.ts(10,9): error TS2322: ...`
DIAGNOSTIC = re.compile(r"^(?P<file>[^(\s]+)\(\d+,\d+\): error ")


def _require_node_tools() -> None:
    missing = [name for name in NODE_TOOLS if not (NODE_BIN / name).exists()]
    if shutil.which("node") is None:
        missing.insert(0, "node")
    if missing:
        message = f"{', '.join(missing)} not installed: run `make tools` (npm ci in tools/node, versions pinned there)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: " + message, pytrace=False)
        pytest.skip(message)


def _run(tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(NODE_BIN / tool), *args]
    env = {**os.environ, **QUIET}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The app's OpenAPI document, written once for the module, and as a dict."""
    _require_node_tools()
    folder = Path(tmp_path_factory.mktemp("clients"))
    spec = create_app(StoreConfig.from_url(f"sqlite:///{folder / 'books.sqlite'}"), run_projections=False).openapi()
    path = folder / "openapi.json"
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")  # indented: the linters cite line numbers
    return path, spec


@pytest.fixture(scope="module")
def tsc_errors(document: tuple[Path, dict[str, Any]]) -> dict[str, list[str]]:
    """tsc's errors by file, after one run over the generated types and both scripts."""
    path, _spec = document
    folder = path.parent
    generated = _run("openapi-typescript", str(path), "--output", str(folder / "api.d.ts"), cwd=folder)
    assert generated.returncode == 0, generated.stderr
    (folder / "balance.ts").write_text(BALANCE_TS, encoding="utf-8")
    (folder / "command.ts").write_text(COMMAND_TS, encoding="utf-8")
    options = ["--strict", "--noEmit", "--pretty", "false", "--target", "es2022", "--lib", "es2022,dom"]
    options += ["--module", "esnext", "--moduleResolution", "bundler"]
    checked = _run("tsc", *options, "balance.ts", "command.ts", cwd=folder)
    errors: dict[str, list[str]] = defaultdict(list)
    current = "?"
    for line in checked.stdout.splitlines():
        match = DIAGNOSTIC.match(line)
        current = match["file"] if match else current  # a message's further lines follow its first
        errors[current].append(line)
    # tsc itself failed (an option, a file not found): no script was checked
    assert set(errors) <= {"api.d.ts", "balance.ts", "command.ts"}, (checked.stdout, checked.stderr)
    assert (checked.returncode == 0) == (not errors), (checked.returncode, checked.stdout, checked.stderr)
    return dict(errors)


def test_a_typescript_client_sends_pay_fee_and_reads_its_position(tsc_errors):
    assert not tsc_errors.get("api.d.ts"), "\n".join(tsc_errors["api.d.ts"])
    assert not tsc_errors.get("command.ts"), "\n".join(tsc_errors["command.ts"])
    assert set(tsc_errors) <= {"balance.ts"}, tsc_errors


def test_a_typescript_client_reads_a_balance_as_a_decimal_string(tsc_errors, document):
    _path, spec = document
    assert "AccountBalance" in spec["components"]["schemas"]  # the balance route's typed answer
    assert not tsc_errors.get("balance.ts"), "\n".join(tsc_errors["balance.ts"])


def _findings(lines: list[str]) -> str:
    return "\n".join(lines) or "(none)"


def test_redocly_finds_no_error_in_the_document(document):
    path, _spec = document
    linted = _run("redocly", "lint", str(path), "--config", str(ROOT / "redocly.yaml"), "--format", "json", cwd=ROOT)
    report = json.loads(linted.stdout)
    errors = [
        f"{p['ruleId']} at {p['location'][0].get('pointer')}: {p['message']}"
        for p in report["problems"]
        if p["severity"] == "error"
    ]
    assert report["totals"]["errors"] == len(errors) == 0, _findings(errors)


def test_spectral_finds_no_error_in_the_document(document):
    path, _spec = document
    linted = _run("spectral", "lint", str(path), "--ruleset", str(ROOT / ".spectral.yaml"), "--format", "json", cwd=ROOT)
    assert linted.stdout.strip(), linted.stderr  # no JSON at all: the ruleset or the file did not load
    results = json.loads(linted.stdout)
    errors = [f"{r['code']} at {'.'.join(map(str, r['path']))}: {r['message']}" for r in results if r["severity"] == 0]
    assert not errors, _findings(errors)
