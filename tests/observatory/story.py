"""A year of one association, touching every indicator, with its figures worked out by hand.

As of 2025-12-31 (see EXPECTED): four members were admitted (m1 users; m2 users then staff from
May; m3 staff; m4 staff, resigned 30 June); the 2025 fee (100 EUR) was called for all four and
paid by m1 and m4 in full, by m3 for 40 EUR; m2's payment was reversed in July. A contribution
of 5,000 EUR filled the cooperation fund, whose call (envelope 3,000) awarded 1,500 and paid
1,000; a regional subsidy of 10,000 (4,000 received) funds a call (envelope 6,000) that awarded
2,500 and paid 1,000. Two certifications (one expires in February 2026), two subscription bills
(79 + 64 EUR, the first paid), two sensors (one retired in September; 2,500 readings, 2.50
credits issued, 1 redeemed) and 10.5 shared hours rebilled for 280 EUR.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledger.commands import parse_command
from ledger.service import CommandResult, Ledger

COOP = "obs"
AS_OF = "2025-12-31"
FOUND: dict[str, Any] = {
    "name": "Observatoire Coop",
    "legal_form": "association",
    "founded_on": "2025-01-01",
    "colleges": [{"code": "users", "name": "Usagers", "weight": "60"}, {"code": "staff", "name": "Salariés", "weight": "40"}],
    "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "100"}],
}
REVERSED = "pay-m2"  # the key of the payment the story reverses


def commands() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(idempotency key, command, fields), in recording order."""
    yield "found", "FoundCooperative", FOUND
    for member_id, college, kind, day in [
        ("m1", "users", "organisation", "2025-02-01"),
        ("m2", "users", "person", "2025-03-01"),
        ("m3", "staff", "organisation", "2025-03-15"),
        ("m4", "staff", "person", "2025-04-01"),
    ]:
        yield (
            f"admit-{member_id}",
            "AdmitMember",
            {"member_id": member_id, "name": member_id.upper(), "kind": kind, "college": college, "effective_date": day},
        )
    yield "transfer-m2", "TransferMember", {"member_id": "m2", "college": "staff", "effective_date": "2025-05-01"}
    for member_id in ("m1", "m2", "m3", "m4"):
        yield f"call-{member_id}", "CallFee", {"member_id": member_id, "year": 2025, "effective_date": "2025-04-02"}
    for member_id, amount, day in [
        ("m1", "100", "2025-04-10"),
        ("m4", "100", "2025-04-20"),
        ("m2", "100", "2025-05-10"),
        ("m3", "40", "2025-06-10"),
    ]:
        yield f"pay-{member_id}", "PayFee", {"member_id": member_id, "year": 2025, "amount": amount, "effective_date": day}
    yield "resign-m4", "ResignMember", {"member_id": "m4", "effective_date": "2025-06-30"}
    yield "reverse", "ReverseEntry", {"entry_number": None, "reason": "cheque returned", "effective_date": "2025-07-01"}
    # cooperation fund and its call
    yield (
        "pledge",
        "PledgeContribution",
        {
            "pledge_id": "P1",
            "member_id": "m1",
            "rate_percent": "10",
            "first_year": 2024,
            "years": 3,
            "effective_date": "2025-02-15",
        },
    )
    yield (
        "declare",
        "DeclareContributionResult",
        {"pledge_id": "P1", "year": 2024, "result": "50000", "effective_date": "2025-03-01"},
    )
    yield "contribute", "PayContribution", {"pledge_id": "P1", "year": 2024, "amount": "5000", "effective_date": "2025-03-20"}
    yield (
        "open-f1",
        "OpenCall",
        {
            "call_id": "F1",
            "title": "Fonds 2025",
            "envelope": "3000",
            "min_award": "1000",
            "max_award": "2000",
            "max_laureates": 2,
            "effective_date": "2025-04-01",
        },
    )
    yield (
        "apply-fa1",
        "RecordApplication",
        {"call_id": "F1", "application_id": "FA1", "project": "Projet A", "member_id": "m1", "effective_date": "2025-04-05"},
    )
    yield "award-fa1", "AwardGrant", {"application_id": "FA1", "amount": "1500", "effective_date": "2025-05-01"}
    yield "paygrant-fa1", "PayGrant", {"application_id": "FA1", "amount": "1000", "effective_date": "2025-06-01"}
    # a subsidy and the call it funds
    yield (
        "subsidy",
        "RecordSubsidy",
        {"subsidy_id": "S1", "funder": "Région", "purpose": "Médias", "amount": "10000", "effective_date": "2025-02-01"},
    )
    yield "receive", "ReceiveSubsidy", {"subsidy_id": "S1", "amount": "4000", "effective_date": "2025-03-01"}
    yield (
        "open-c1",
        "OpenCall",
        {
            "call_id": "C1",
            "title": "Médias 2025",
            "subsidy_id": "S1",
            "envelope": "6000",
            "min_award": "1000",
            "max_award": "3000",
            "max_laureates": 3,
            "effective_date": "2025-03-05",
        },
    )
    yield (
        "apply-a1",
        "RecordApplication",
        {"call_id": "C1", "application_id": "A1", "project": "Radio", "applicant": "Collectif X", "effective_date": "2025-03-10"},
    )
    yield "award-a1", "AwardGrant", {"application_id": "A1", "amount": "2500", "effective_date": "2025-04-01"}
    yield "paygrant-a1", "PayGrant", {"application_id": "A1", "amount": "1000", "effective_date": "2025-04-15"}
    # certifications
    yield (
        "terms",
        "SetCertificationTerms",
        {"fee": "450", "validity_months": 12, "renewal_window_days": 60, "effective_date": "2025-01-15"},
    )
    yield "cert-1", "GrantCertification", {"certification_id": "CERT1", "member_id": "m1", "effective_date": "2025-02-10"}
    yield "cert-2", "GrantCertification", {"certification_id": "CERT2", "member_id": "m3", "effective_date": "2025-06-01"}
    # subscriptions
    yield (
        "plan",
        "DefineSubscriptionPlan",
        {
            "plan_id": "PL",
            "name": "Mensuel",
            "kind": "provider",
            "period": "monthly",
            "fixed_amount": "49",
            "revenue_rate": "0.03",
            "effective_date": "2025-01-20",
        },
    )
    yield (
        "sub",
        "StartSubscription",
        {"subscription_id": "SU1", "member_id": "m1", "plan_id": "PL", "effective_date": "2025-02-01"},
    )
    yield (
        "bill-02",
        "BillSubscription",
        {"subscription_id": "SU1", "period": "2025-02", "declared_revenue": "1000", "effective_date": "2025-03-05"},
    )
    yield (
        "paysub-02",
        "PaySubscription",
        {"subscription_id": "SU1", "period": "2025-02", "amount": "79", "effective_date": "2025-03-20"},
    )
    yield (
        "bill-03",
        "BillSubscription",
        {"subscription_id": "SU1", "period": "2025-03", "declared_revenue": "500", "effective_date": "2025-04-05"},
    )
    # sensors
    yield (
        "sensor-terms",
        "SetSensorRewardTerms",
        {"effective_date": "2025-04-01", "credit_rate": "0.001", "daily_cap": "2", "money_rate": "0.50", "service_rate": "0.80"},
    )
    for sensor_id, host_id in [("S1", "m1"), ("S2", "m3")]:
        yield (
            f"sensor-{sensor_id}",
            "RegisterSensor",
            {"sensor_id": sensor_id, "host_id": host_id, "quantity": "pm2.5", "effective_date": "2025-04-10"},
        )
    for sensor_id, readings in [("S1", 1000), ("S2", 1500)]:
        yield (
            f"readings-{sensor_id}",
            "AcceptReadings",
            {"sensor_id": sensor_id, "period": "2025-04-14", "readings": readings, "effective_date": "2025-04-15"},
        )
    yield "redeem", "RedeemCreditsForMoney", {"host_id": "m3", "credits": "1", "effective_date": "2025-05-02"}
    yield "retire", "RetireSensor", {"sensor_id": "S2", "effective_date": "2025-09-01"}
    # shared hours
    yield "minimum", "SetEthicalMinimumRate", {"hourly_rate": "13.50", "effective_date": "2025-03-01"}
    yield (
        "engage",
        "EngageSharedEmployee",
        {"employee_id": "E1", "name": "Nadia", "hourly_pay": "15.20", "effective_date": "2025-04-01"},
    )
    yield "log-1", "LogSharedHours", {"employee_id": "E1", "structure_id": "m1", "day": "2025-04-07", "hours": "7"}
    yield "log-2", "LogSharedHours", {"employee_id": "E1", "structure_id": "m3", "day": "2025-04-08", "hours": "3.5"}
    yield (
        "rebill",
        "RebillSharedHours",
        {
            "employee_id": "E1",
            "period": "2025-04",
            "gross_pay": "200",
            "employer_charges": "80",
            "expenses": "0",
            "effective_date": "2025-05-05",
        },
    )


def record(ledger: Ledger, coop: str = COOP, after_each: Any = None) -> list[CommandResult]:
    """Records the story (every command must be accepted); `after_each()` runs after each one."""
    results, numbers = [], {}
    for key, name, fields in commands():
        fields = dict(fields)
        if name == "ReverseEntry":
            fields["entry_number"] = numbers[REVERSED]
        command, key, _ = parse_command({"command": name, "idempotency_key": key, "coop": coop, **fields})
        result = ledger.execute(command, key, "test")
        assert result.accepted, (key, result.error)
        numbers[key] = result.journal_numbers[0] if result.journal_numbers else None
        results.append(result)
        if after_each is not None:
            after_each()
    return results


MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def _two_places(values: list[int]) -> list[str]:
    """Whole euros or credits as the wire writes them: 5000 -> "5000.00"."""
    return [f"{v:.2f}" for v in values]


EXPECTED: dict[str, dict[str, Any]] = {  # value keys worked out by hand (euros, credits, hours as the wire writes them)
    "members": {"members": 3, "in_good_standing": 1},
    "fees": {"year": 2025, "called_eur": "400.00", "paid_eur": "240.00", "rate_percent": "60.00"},
    "fund": {"balance_eur": "4000.00", "committed_eur": "2000.00", "available_eur": "2000.00", "received_eur": "5000.00"},
    "calls": {
        "calls": 2,
        "open": 2,
        "envelope_eur": "9000.00",
        "awarded_eur": "4000.00",
        "paid_eur": "2000.00",
        "remaining_eur": "5000.00",
        "laureates": 2,
    },
    "subsidies": {"subsidies": 1, "granted_eur": "10000.00", "received_eur": "4000.00", "to_receive_eur": "6000.00"},
    "certifications": {"certified": 2, "expiring_within_90_days": 1},
    "subscriptions": {"billed_eur": "143.00", "paid_eur": "79.00"},
    "sensors": {
        "active_sensors": 1,
        "sensors": 2,
        "readings": 2500,
        "issued_credits": "2.50",
        "redeemed_credits": "1.00",
        "outstanding_credits": "1.50",
    },
    "shared_hours": {"logged_hours": "10.50", "rebilled_hours": "10.50", "billed_eur": "280.00"},
}
EXPECTED_SERIES: dict[tuple[str, str], list[Any]] = {  # month by month, January to December 2025
    ("members", "members:users"): [0, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1],
    ("members", "members:staff"): [0, 0, 1, 2, 3, 2, 2, 2, 2, 2, 2, 2],
    # m2's payment is reversed: as known now, m2 was never in good standing; m4 left on 30 June.
    ("members", "in_good_standing"): [0, 0, 0, 2, 2, 1, 1, 1, 1, 1, 1, 1],
    ("fees", "paid_eur"): _two_places([0, 0, 0, 200, 300, 340, 240, 240, 240, 240, 240, 240]),
    ("fees", "rate_percent"): [None, None, None, "50.00", "75.00", "85.00", "60.00", "60.00", "60.00", "60.00", "60.00", "60.00"],
    ("fund", "balance_eur"): _two_places([0, 0, 5000, 5000, 5000, 4000, 4000, 4000, 4000, 4000, 4000, 4000]),
    ("fund", "available_eur"): _two_places([0, 0, 5000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000]),
    ("calls", "awarded_eur"): _two_places([0, 0, 0, 2500, 4000, 4000, 4000, 4000, 4000, 4000, 4000, 4000]),
    ("subsidies", "received_eur"): _two_places([0, 0, 4000, 4000, 4000, 4000, 4000, 4000, 4000, 4000, 4000, 4000]),
    ("certifications", "certified"): [0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2],
    ("subscriptions", "billed_eur"): _two_places([0, 0, 79, 64, 0, 0, 0, 0, 0, 0, 0, 0]),
    ("sensors", "active_sensors"): [0, 0, 0, 2, 2, 2, 2, 2, 1, 1, 1, 1],
    ("sensors", "readings"): [0, 0, 0, 2500, 0, 0, 0, 0, 0, 0, 0, 0],
    ("sensors", "redeemed_credits"): _two_places([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
    ("shared_hours", "logged_hours"): ["0.00"] * 3 + ["10.50"] + ["0.00"] * 8,
    ("shared_hours", "rebilled_hours"): ["0.00"] * 4 + ["10.50"] + ["0.00"] * 7,
}
