"""A federation's report as the API writes it (api/answers/commands.py): amounts as decimal strings
in the major unit beside their unit, totals as one row per unit, the same on a retry (both stores)."""

from __future__ import annotations

import json
from decimal import Decimal

from api.answers.commands import AcceptedCommand, result_answer
from ledger import demo_federation
from ledger.commands import loads, parse_envelope

from .conftest import demo_lines


def test_the_federation_report_reads_in_major_units_beside_its_unit(founded):
    ledger, _runner = founded
    (line,) = demo_lines(demo_federation.federation)
    envelope = parse_envelope(loads(json.dumps(line)))
    result = ledger.execute(envelope.command, envelope.idempotency_key, "test")
    assert result.accepted, result.error and result.error.as_dict()

    answer = AcceptedCommand.model_validate(result_answer(result.as_dict())).model_dump(mode="json")
    report = answer["report"]
    assert report["kind"] == "federation" and report["coop"] == demo_federation.FEDERATION
    assert report["totals"] == [{"unit": "EUR", "debit": "1210.00", "credit": "1210.00"}]  # worked out in the demo
    for founder, raw in zip(report["founders"], result.report["founders"], strict=True):
        for shown, kept in (("balances", "balances"), ("open_items", "open_items")):
            assert [(b["account"], b["party"], b["unit"], Decimal(b["amount"]) * 100) for b in founder[shown]] == [
                (b["account"], b["party"], b["unit"], b["amount_minor"]) for b in raw[kept]
            ]
        assert founder["totals"] == [
            {"unit": unit, "debit": f"{Decimal(t['debit']) / 100:.2f}", "credit": f"{Decimal(t['credit']) / 100:.2f}"}
            for unit, t in sorted(raw["totals"].items())
        ]
    assert [(c["code"], c["weight"], c["members"]) for c in report["colleges"]] == [
        ("garrigues", "40", 4),
        ("littoral", "30", 2),
        ("cevennes", "30", 3),
    ]

    # Retried under the same key: the receipt's report, written to the wire the same way.
    again = ledger.execute(envelope.command, envelope.idempotency_key, "test")
    assert again.duplicate
    assert AcceptedCommand.model_validate(result_answer(again.as_dict())).model_dump(mode="json") == {**answer, "duplicate": True}
