"""The observatory's ten indicators, one function each: its definition (French and English), its
current value(s) and its monthly series, for one cooperative as of a day. The indicators are put
together, read in one snapshot and cached by projections/observatory_indicators.py.

Current figures come from the read functions that already answer them (registry, governance,
grants, subsidies, certifications, sensors, shared hours), so a rule lives in one place; the
monthly series come from the observatory projection's movements (projections/observatory.py).
Amounts are integers in minor units (EUR cents, CREDIT hundredths, minutes); rates and weights
are exact decimal strings ("75.00" percent), never floats. The titles and definitions, in both
languages, are in projections/observatory_text.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from domain.pots import Figures
from ledger.db import Database
from projections.certifications import certified_on, expiring_between
from projections.grants import FIGURE_COLUMNS, calls_for_projects, cooperation_fund
from projections.observatory import totals_by_dim
from projections.observatory_text import EXPIRY_WINDOW_DAYS, TEXT
from projections.sensors import active_sensors, credits_summary, readings_accepted
from projections.shared_hours import hours_by_structure
from projections.subsidies import subsidies_overview

MAX_LISTED = 50  # calls, subsidies, periods... listed one by one; totals cover them all
MAX_PAGES = 20  # read functions page by 1,000: at most 20,000 calls or subsidies summed


def _percent(numerator: int | Fraction, denominator: int = 1) -> str | None:
    """An exact ratio as a percentage with two decimals, rounded half up: "75.00"."""
    if denominator == 0:
        return None
    value = Fraction(numerator) * 100 / denominator
    return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _running(by_month: dict[str, int], months: list[str]) -> list[int]:
    total, values = by_month.get("", 0), []
    for m in months:
        total += by_month.get(m, 0)
        values.append(total)
    return values


def _flow(by_month: dict[str, int], months: list[str]) -> list[int]:
    return [by_month.get(m, 0) for m in months]


def _sum(*series: list[int]) -> list[int]:
    return [sum(values) for values in zip(*series, strict=True)]


def _series(key: str, fr: str, en: str, unit: str, values: list[Any]) -> dict[str, Any]:
    return {"key": key, "label": {"fr": fr, "en": en}, "unit": unit, "values": values}


def _indicator(ident: str, value: dict[str, Any], series: list[dict[str, Any]]) -> dict[str, Any]:
    title_fr, title_en, def_fr, def_en = TEXT[ident]
    return {
        "id": ident,
        "title": {"fr": title_fr, "en": title_en},
        "definition": {"fr": def_fr, "en": def_en},
        "value": value,
        "series": series,
    }


def _pages(read: Callable[[str], list[dict[str, Any]]], key: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after = ""
    for _ in range(MAX_PAGES):
        page = read(after)
        rows += page
        if len(page) < 1000:
            break
        after = page[-1][key]
    return rows


def _in_place(row: dict[str, Any], day: str) -> bool:
    return row["admitted_on"] <= day and (row["left_on"] is None or row["left_on"] > day)


def members(
    standing: dict[int, list[dict[str, Any]]],
    today: date,
    months: list[str],
    ends: list[date],
    moves: Any,
    fiscal_year: Callable[[date], int],
    governance: dict[str, Any],
) -> dict[str, Any]:

    def good(rows: list[dict[str, Any]], day: date) -> list[dict[str, Any]]:
        d = day.isoformat()
        return [r for r in rows if _in_place(r, d) and r["in_good_standing"] and r["fully_paid_on"] <= d]

    now = standing[fiscal_year(today)]
    names = {c["code"]: c["name"] for c in governance["colleges"]}
    in_place = [r for r in now if _in_place(r, today.isoformat())]
    codes = list(names) + sorted({r["college"] for r in in_place} - set(names))
    colleges = [
        {
            "code": code,
            "name": names.get(code, code),
            "members": sum(1 for r in in_place if r["college"] == code),
            "in_good_standing": sum(1 for r in good(now, today) if r["college"] == code),
        }
        for code in codes
    ]
    series = [
        _series(
            f"members:{code}",
            f"Membres – {names.get(code, code)}",
            f"Members – {names.get(code, code)}",
            "count",
            _running(moves.get(("members", code), {}), months),
        )
        for code in sorted({dim for metric, dim in moves if metric == "members"} | set(names))
    ]
    series.append(
        _series(
            "in_good_standing",
            "À jour de cotisation",
            "In good standing",
            "count",
            [len(good(standing[fiscal_year(d)], d)) for d in ends],
        )
    )
    return _indicator(
        "members", {"colleges": colleges, "members": len(in_place), "in_good_standing": len(good(now, today))}, series
    )


def fees(
    rows: list[dict[str, Any]], year: int, months: list[str], ends: list[date], moves: Any, fiscal_year: Callable[[date], int]
) -> dict[str, Any]:
    called = sum(r["fee_called_cents"] or 0 for r in rows)
    paid = sum(r["fee_paid_cents"] or 0 for r in rows)
    running: dict[tuple[str, str], list[int]] = {}  # each year's running sums, computed once, not once per month

    def to_date(metric: str, y: str) -> list[int]:
        if (metric, y) not in running:
            running[(metric, y)] = _running(moves.get((metric, y), {}), months)
        return running[(metric, y)]

    called_s, paid_s = [], []
    for i, day in enumerate(ends):
        y = str(fiscal_year(day))
        called_s.append(to_date("fee_called", y)[i])
        paid_s.append(to_date("fee_paid", y)[i])
    return _indicator(
        "fees",
        {"year": year, "called_cents": called, "paid_cents": paid, "rate_percent": _percent(paid, called)},
        [
            _series(
                "rate_percent",
                "Taux de recouvrement",
                "Collection rate",
                "percent",
                [_percent(p, c) for p, c in zip(paid_s, called_s, strict=True)],
            ),
            _series("called_cents", "Appelé", "Called", "EUR", called_s),
            _series("paid_cents", "Payé", "Paid", "EUR", paid_s),
        ],
    )


def _pot_series(moves: Any, kind: str, months: list[str]) -> list[Figures]:
    columns = [_running(moves.get((f"pot:{c}", kind), {}), months) for c in FIGURE_COLUMNS]
    return [Figures(*values) for values in zip(*columns, strict=True)] if months else []


def fund(db: Database, coop: str, today: date, months: list[str], moves: Any) -> dict[str, Any]:
    fund = cooperation_fund(db, coop, as_of=today)
    figures = _pot_series(moves, "fund", months)
    return _indicator(
        "fund",
        {k: fund[k] for k in ("balance_cents", "committed_cents", "available_cents", "received_cents", "paid_cents")},
        [
            _series("balance_cents", "Solde", "Balance", "EUR", [f.cash_cents for f in figures]),
            _series("committed_cents", "Engagé", "Committed", "EUR", [f.committed_cents for f in figures]),
            _series("available_cents", "Disponible", "Available", "EUR", [f.available_cents for f in figures]),
        ],
    )


def calls(db: Database, coop: str, months: list[str], moves: Any) -> dict[str, Any]:
    calls = _pages(lambda after: calls_for_projects(db, coop, include_closed=True, after=after, limit=1000), "call_id")
    totals = {
        k: sum(c[k] for c in calls) for k in ("envelope_cents", "awarded_cents", "paid_cents", "remaining_cents", "laureates")
    }
    listed = [
        {
            k: c[k]
            for k in (
                "call_id",
                "title",
                "status",
                "envelope_cents",
                "awarded_cents",
                "paid_cents",
                "remaining_cents",
                "laureates",
                "max_laureates",
            )
        }
        for c in calls[:MAX_LISTED]
    ]
    pots = [_pot_series(moves, kind, months) for kind in ("fund", "subsidy")]
    return _indicator(
        "calls",
        {"calls": len(calls), "open": sum(1 for c in calls if c["status"] == "open"), **totals, "listed": listed},
        [
            _series("awarded_cents", "Attribué", "Awarded", "EUR", _sum(*([f.awarded_cents for f in p] for p in pots))),
            _series("paid_cents", "Versé", "Paid", "EUR", _sum(*([f.paid_cents for f in p] for p in pots))),
        ],
    )


def subsidies(db: Database, coop: str, today: date, months: list[str], moves: Any) -> dict[str, Any]:
    rows = _pages(lambda after: subsidies_overview(db, coop, as_of=today, after=after, limit=1000), "subsidy_id")
    figures = _pot_series(moves, "subsidy", months)
    granted, received = sum(r["granted_cents"] for r in rows), sum(r["received_cents"] for r in rows)
    listed = [
        {k: r[k] for k in ("subsidy_id", "funder", "purpose", "granted_cents", "received_cents")} for r in rows[:MAX_LISTED]
    ]
    return _indicator(
        "subsidies",
        {
            "subsidies": len(rows),
            "granted_cents": granted,
            "received_cents": received,
            "to_receive_cents": granted - received,
            "listed": listed,
        },
        [
            _series("granted_cents", "Accordé", "Granted", "EUR", [f.inflow_cents for f in figures]),
            _series("received_cents", "Reçu", "Received", "EUR", [f.received_cents for f in figures]),
        ],
    )


def certifications(db: Database, coop: str, today: date, months: list[str], ends: list[date], moves: Any) -> dict[str, Any]:
    certified = certified_on(db, coop, today)
    expiring = expiring_between(db, coop, today, today + timedelta(days=EXPIRY_WINDOW_DAYS))
    granted = _running(moves.get(("certifications_granted", ""), {}), months)
    # One query per month, only from the first month a certification was granted: the rule of
    # "certified on D" stays in projections/certifications.py.
    counts = [len(certified_on(db, coop, day)) if n else 0 for n, day in zip(granted, ends, strict=True)]
    return _indicator(
        "certifications",
        {
            "certified": len(certified),
            "expiring_within_90_days": len(expiring),
            "expiring": [{"member_id": c["member_id"], "valid_until": c["valid_until"]} for c in expiring[:MAX_LISTED]],
        },
        [_series("certified", "Certifiés", "Certified", "count", counts)],
    )


def subscriptions(db: Database, coop: str, months: list[str], moves: Any) -> dict[str, Any]:
    totals = totals_by_dim(db, coop, ("subscription_billed", "subscription_paid"))
    billed, paid = totals.get("subscription_billed", {}), totals.get("subscription_paid", {})
    periods = [
        {"period": p, "billed_cents": billed.get(p, 0), "paid_cents": paid.get(p, 0)}
        for p in sorted(set(billed) | set(paid))
        if billed.get(p, 0) or paid.get(p, 0)
    ]

    def per_month(metric: str) -> list[int]:
        return _sum(*(_flow(v, months) for (m, _d), v in moves.items() if m == metric)) if months else []

    empty = [0] * len(months)
    return _indicator(
        "subscriptions",
        {"billed_cents": sum(billed.values()), "paid_cents": sum(paid.values()), "periods": periods[-MAX_LISTED:]},
        [
            _series("billed_cents", "Facturé", "Billed", "EUR", per_month("subscription_billed") or empty),
            _series("paid_cents", "Payé", "Paid", "EUR", per_month("subscription_paid") or empty),
        ],
    )


def sensors(db: Database, coop: str, today: date, months: list[str], moves: Any) -> dict[str, Any]:
    summary = credits_summary(db, coop)
    active = len(active_sensors(db, coop, today))
    readings, credits = dict.fromkeys(months, 0), dict.fromkeys(months, 0)
    if months:
        for day in readings_accepted(db, coop, start=date.fromisoformat(months[0] + "-01"), end=today)["days"]:
            readings[day["day"][:7]] += day["readings"]
            credits[day["day"][:7]] += day["credits_minor"]
    redeemed = _sum(*(_flow(moves.get(("credits_redeemed", k), {}), months) for k in ("money", "service")))
    return _indicator(
        "sensors",
        {
            "active_sensors": active,
            "sensors": summary["sensors"],
            "hosts": summary["hosts"],
            "readings": summary["readings"],
            "issued_minor": summary["issued_minor"],
            "redeemed_minor": summary["redeemed_service_minor"] + summary["redeemed_money_minor"],
            "outstanding_minor": summary["outstanding_minor"],
        },
        [
            _series(
                "active_sensors",
                "Capteurs actifs",
                "Active sensors",
                "count",
                [
                    a - r
                    for a, r in zip(
                        _running(moves.get(("sensors_registered", ""), {}), months),
                        _running(moves.get(("sensors_retired", ""), {}), months),
                        strict=True,
                    )
                ],
            ),
            _series("readings", "Relevés acceptés", "Readings accepted", "count", [readings[m] for m in months]),
            _series("issued_minor", "Crédits émis", "Credits issued", "CREDIT", [credits[m] for m in months]),
            _series("redeemed_minor", "Crédits échangés", "Credits redeemed", "CREDIT", redeemed),
        ],
    )


def shared_hours(db: Database, coop: str, months: list[str], moves: Any) -> dict[str, Any]:
    structures = hours_by_structure(db, coop)

    def per_month(metric: str) -> list[int]:
        return _sum(*(_flow(v, months) for (m, _d), v in moves.items() if m == metric)) or [0] * len(months)

    return _indicator(
        "shared_hours",
        {
            "structures": structures[:MAX_LISTED],
            "logged_minutes": sum(s["logged_minutes"] for s in structures),
            "rebilled_minutes": sum(s["rebilled_minutes"] for s in structures),
            "billed_cents": sum(s["billed_cents"] for s in structures),
        },
        [
            _series("logged_minutes", "Heures déclarées", "Hours logged", "minutes", per_month("hours_logged")),
            _series("rebilled_minutes", "Heures refacturées", "Hours rebilled", "minutes", per_month("hours_rebilled")),
        ],
    )


def governance(report: dict[str, Any]) -> dict[str, Any]:
    colleges = [
        {
            "code": c["code"],
            "name": c["name"],
            "members": c["members"],
            "eligible_members": c["eligible_members"],
            "statutory_weight": c["statutory_weight"],
            "effective_weight": c["effective_weight"],
            "statutory_percent": _percent(Fraction(c["statutory_weight"]), 100),
            "effective_percent": _percent(Fraction(c["effective_weight"]), 100),
        }
        for c in report["colleges"]
    ]
    return _indicator(
        "governance",
        {"colleges": colleges, "unassigned_weight": report.get("unassigned_weight"), "flags": report.get("flags", [])},
        [],
    )
