"""A federation carries the open items of the cooperation fund, subsidies, calls for projects,
contribution pledges and authors' shares (domain/funds_carry.py, domain/contributions_carry.py, domain/levy.py), on both stores.

Founders (associations, 2025 still open), federated on 2025-07-01 with prefixed member ids (EUR):
- fa: pledge pa (A1, 5% of 60,000 = 3,000) paid 3,000 into the fund. Call call-a on the fund:
  envelope 2,000, awards 100-1,000, 3 laureates; app-a1 (member A2) awarded 800, paid 300; app-a2
  (Collectif X) awarded 600; app-a3 (member A3, who left on 2025-06-01) pending. Call call-old opened and closed (not
  carried). Fund: received 3,000, awarded 1,400, paid 300, reserved 600: unspent (195) 1,600,
  available 1,000, cash 2,700.
  Subsidy sub-region: 5,000 granted, 2,000 received, 1,000 used; call call-s on it: envelope 1,500,
  app-s1 (Asso Y) awarded 500: unspent (194) 3,500, reserved 1,000, available 2,500, cash 2,000.
  Subsidy sub-done: 100 granted, received, used: nothing open, not carried.
  Course course-a by A1 (levy 20%): 100 collected, share 80, paid 30: A1 is owed 50 (4672).
- fb: pledge pb (B1) paid 400 into the fund; subsidy sub-city: 1,000 granted and received;
  course-b by B1 (levy 10%): 50 collected, share 45 owed.
Federation fed: one fund of 3,400 received, 1,400 awarded, 300 paid, 600 reserved (unspent 2,000,
available 1,400, cash 3,100); both subsidies; call-a and call-s with their applications; fa.A1 owed
50 and fb.B1 owed 45; pledges pa (2024 declared and paid, 2025-2026 to declare) and pb (600 of its
2024 contribution still due).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.contributions import DeclareContributionResult, PayContribution, PledgeContribution
from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.federation import FederateCooperatives, FederationCollege
from domain.grants import AwardGrant, CloseCall, OpenCall, PayGrant, RecordApplication, WithdrawGrant
from domain.levy import CollectCourseContribution, DeclareCourse, PayAuthor
from domain.membership import AdmitMember, ResignMember
from domain.pots import FUND, subsidy_source
from domain.subsidies import ReceiveSubsidy, RecordSubsidy, UseSubsidy
from projections.balances import account_balance
from projections.grants import FIGURE_COLUMNS, calls_for_projects, cooperation_fund
from projections.observatory import pot_kind, totals_by_dim
from projections.runner import ProjectionRunner
from projections.subsidies import subsidies_overview
from tests.builders import dump_projections, new_key, ok, stored_event_count
from tests.ledger.test_contributions import assert_refused
from tests.views import author_balances, call_applications, contribution_pledges

D = Decimal
START, DAY = date(2025, 1, 1), date(2025, 7, 1)
FED = "fed"
AFTER = date(2025, 7, 15)


def _found(ledger, slug: str, members: list[str]) -> None:
    ok(
        ledger,
        FoundCooperative(
            slug, f"Association {slug}", "association", START, [CollegeSpec("membres", "Membres")], [FeeBracket(1, None, D(40))]
        ),
    )
    for member_id in members:
        ok(ledger, AdmitMember(slug, member_id, f"Membre {member_id}", "person", "membres", START, 1))


def _contribution(ledger, slug: str, pledge: str, member: str, result: str, paid: str) -> None:
    ok(ledger, PledgeContribution(slug, pledge, member, "5", 2024, date(2025, 1, 10)))
    ok(ledger, DeclareContributionResult(slug, pledge, 2024, D(result), date(2025, 1, 15)))
    ok(ledger, PayContribution(slug, pledge, 2024, D(paid), date(2025, 2, 1)))


def _founder_a(ledger) -> None:
    _found(ledger, "fa", ["A1", "A2", "A3"])
    _contribution(ledger, "fa", "pa", "A1", "60000", "3000")
    ok(ledger, OpenCall("fa", "call-old", "Appel clos", D(100), D(50), D(100), 1, date(2025, 2, 10)))
    ok(ledger, CloseCall("fa", "call-old", date(2025, 2, 20)))
    ok(ledger, OpenCall("fa", "call-a", "Appel A", D(2000), D(100), D(1000), 3, date(2025, 3, 1)))
    ok(ledger, RecordApplication("fa", "call-a", "app-a1", "Projet A1", date(2025, 3, 5), member_id="A2"))
    ok(ledger, RecordApplication("fa", "call-a", "app-a2", "Radio libre", date(2025, 3, 5), applicant="Collectif X"))
    ok(ledger, RecordApplication("fa", "call-a", "app-a3", "Atelier", date(2025, 3, 5), member_id="A3"))
    ok(ledger, AwardGrant("fa", "app-a1", D(800), date(2025, 4, 1)))
    ok(ledger, AwardGrant("fa", "app-a2", D(600), date(2025, 4, 1)))
    ok(ledger, PayGrant("fa", "app-a1", D(300), date(2025, 4, 15)))
    ok(ledger, RecordSubsidy("fa", "sub-region", "Région", "Ateliers numériques", D(5000), date(2025, 2, 1)))
    ok(ledger, ReceiveSubsidy("fa", "sub-region", D(2000), date(2025, 2, 15)))
    ok(ledger, UseSubsidy("fa", "sub-region", D(1000), "Animation", date(2025, 3, 1)))
    ok(ledger, OpenCall("fa", "call-s", "Appel S", D(1500), D(100), D(1000), 2, date(2025, 3, 1), subsidy_id="sub-region"))
    ok(ledger, RecordApplication("fa", "call-s", "app-s1", "Projet S1", date(2025, 3, 5), applicant="Asso Y"))
    ok(ledger, AwardGrant("fa", "app-s1", D(500), date(2025, 4, 1)))
    ok(ledger, RecordSubsidy("fa", "sub-done", "Ville", "Fête", D(100), date(2025, 2, 1)))
    ok(ledger, ReceiveSubsidy("fa", "sub-done", D(100), date(2025, 2, 2)))
    ok(ledger, UseSubsidy("fa", "sub-done", D(100), "Fête", date(2025, 2, 3)))
    ok(ledger, DeclareCourse("fa", "course-a", "Cours A", "A1", "0.2", date(2025, 2, 1)))
    ok(ledger, CollectCourseContribution("fa", "course-a", "order-1", D(100), date(2025, 3, 1)))
    ok(ledger, PayAuthor("fa", "A1", D(30), date(2025, 4, 1)))
    ok(ledger, ResignMember("fa", "A3", date(2025, 6, 1)))  # stays behind; app-a3 moves, without its member id


def _founder_b(ledger) -> None:
    _found(ledger, "fb", ["B1", "B2"])
    _contribution(ledger, "fb", "pb", "B1", "20000", "400")
    ok(ledger, RecordSubsidy("fb", "sub-city", "Ville", "Tiers-lieu", D(1000), date(2025, 2, 1)))
    ok(ledger, ReceiveSubsidy("fb", "sub-city", D(1000), date(2025, 2, 15)))
    ok(ledger, DeclareCourse("fb", "course-b", "Cours B", "B1", "0.1", date(2025, 2, 1)))
    ok(ledger, CollectCourseContribution("fb", "course-b", "order-1", D(50), date(2025, 3, 1)))


def _federation(founders: list[str], **changes: Any) -> FederateCooperatives:
    fields: dict[str, Any] = {"member_ids": "prefix", **changes}
    return FederateCooperatives(
        FED, "Fédération", fields.pop("legal_form", "association"), DAY, founders, [FeeBracket(1, None, D(50))], **fields
    )


def _federate(ledger, founders: list[str], **changes: Any):
    result = ledger.execute(_federation(founders, **changes), new_key("fed"))
    assert result.accepted, result.error and result.error.as_dict()
    return result


def _refused_federation(ledger, founders: list[str], field: str, rule: str, kind: type, **changes: Any):
    before = (ledger.position(), stored_event_count(ledger))
    result = ledger.execute(_federation(founders, **changes), new_key("fed"))
    assert not result.accepted and isinstance(result.error, kind), result.error
    assert (result.error.field, result.error.rule) == (field, rule), result.error.message
    assert (ledger.position(), stored_event_count(ledger)) == before
    assert all(ledger.cooperative(slug).sealed_by_federation is None for slug in founders)
    return result.error


# ---------------------------------------------------------------- the write side against the books and the read side


def _write_side(ledger, fed: str = FED) -> dict[str, Any]:
    coop = ledger.cooperative(fed)
    calls = {c.call_id: c for c in coop.grants.calls.values()}
    return {
        "pots": {source: pot.totals for source, pot in coop.grants.pots.items()},
        "subsidies": coop.subsidies.subsidies,
        "calls": calls,
        "grants": coop.grants.grants,
        "owed": {author: sum(moves.values()) for author, moves in coop.levy.author_moves.items()},
        "pledges": {
            p.pledge_id: (
                p.member_id,
                p.first_year,
                p.years,
                sorted((year, y.called_cents, y.paid_cents) for year, y in p.declared.items()),
            )
            for p in coop.contributions.pledges.values()
        },
    }


def assert_books_match_state(ledger, runner, fed: str = FED, chart: tuple[str, ...] = ("195", "194", "4672")) -> None:
    """Every managed balance of the federation (and 441, 4686) is exactly what its state says."""
    runner.catch_up()
    db, w = ledger.db, _write_side(ledger, fed)
    fund_account, subsidy_account, authors_account = chart
    assert account_balance(db, fed, fund_account) == -w["pots"][FUND].unspent_cents
    assert _by_party(db, fed, subsidy_account) == _nonzero(
        {s: -w["pots"][subsidy_source(s)].unspent_cents for s in w["subsidies"]}
    )
    assert _by_party(db, fed, "441") == _nonzero({s: x.granted_cents - x.received_cents for s, x in w["subsidies"].items()})
    assert _by_party(db, fed, "4686") == _nonzero({a: -g.outstanding_cents for a, g in w["grants"].items()})
    assert _by_party(db, fed, authors_account) == _nonzero({a: -owed for a, owed in w["owed"].items()})


def _nonzero(amounts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in amounts.items() if v}


def _by_party(db, coop: str, account: str) -> dict[str, int]:
    """The account's balance per party, from the balances projection (every party, not only known ones)."""
    with db.read() as tx:
        rows = tx.execute(
            "SELECT party, SUM(debit - credit) FROM account_balances_by_day WHERE coop = ? AND account = ? GROUP BY party",
            (coop, account),
        )
    return _nonzero({party: int(total) for party, total in rows})


def assert_read_side_is_write_side(ledger, runner, fed: str = FED) -> None:
    runner.catch_up()
    db, w = ledger.db, _write_side(ledger, fed)
    fund = w["pots"][FUND]
    read = cooperation_fund(db, fed)
    assert (
        read["received_cents"],
        read["awarded_cents"],
        read["paid_cents"],
        read["reserved_cents"],
        read["unspent_cents"],
        read["available_cents"],
        read["balance_cents"],
    ) == (
        fund.received_cents,
        fund.awarded_cents,
        fund.paid_cents,
        fund.reserved_cents,
        fund.unspent_cents,
        fund.available_cents,
        fund.cash_cents,
    )
    subsidies = {s["subsidy_id"]: s for s in subsidies_overview(db, fed)}
    assert set(subsidies) == set(w["subsidies"])
    for subsidy_id, s in subsidies.items():
        pot = w["pots"][subsidy_source(subsidy_id)]
        assert (
            s["granted_cents"],
            s["received_cents"],
            s["used_cents"],
            s["awarded_cents"],
            s["grants_paid_cents"],
            s["reserved_cents"],
            s["unspent_cents"],
            s["available_cents"],
        ) == (
            pot.inflow_cents,
            pot.received_cents,
            pot.used_cents,
            pot.awarded_cents,
            pot.paid_cents,
            pot.reserved_cents,
            pot.unspent_cents,
            pot.available_cents,
        )
        assert (s["funder"], s["purpose"]) == (w["subsidies"][subsidy_id].funder, w["subsidies"][subsidy_id].purpose)
    calls = {c["call_id"]: c for c in calls_for_projects(db, fed, include_closed=True)}
    assert set(calls) == set(w["calls"])
    for call_id, c in calls.items():
        call = w["calls"][call_id]
        assert (c["source"], c["status"], c["envelope_cents"], c["awarded_cents"], c["laureates"], c["applications"]) == (
            call.source,
            "closed" if call.closed_on else "open",
            call.envelope_cents,
            call.awarded_cents,
            call.laureates,
            len(call.grants),
        )
        for a in call_applications(db, fed, call_id):
            grant = call.grants[a["application_id"]]
            assert (a["applicant"], a["member_id"], a["project"], a["awarded_cents"], a["withdrawn_cents"], a["paid_cents"]) == (
                grant.applicant,
                grant.member_id,
                grant.project,
                grant.awarded_cents,
                grant.withdrawn_cents,
                grant.paid_cents,
            )
    assert {a["author_id"]: a["owed_cents"] for a in author_balances(db, fed)} == w["owed"]
    assert {
        p["pledge_id"]: (
            p["member_id"],
            p["first_year"],
            p["last_year"] - p["first_year"] + 1,
            [(y["year"], y["called_cents"], y["paid_cents"]) for y in p["years"]],
        )
        for p in contribution_pledges(db, fed)
    } == w["pledges"]
    # The observatory's pot charts sum to the same figures.
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for source, figures in w["pots"].items():
        for column in FIGURE_COLUMNS:
            by_kind[f"pot:{column}"][pot_kind(source)] += getattr(figures, column)
    charted = totals_by_dim(db, fed, [f"pot:{c}" for c in FIGURE_COLUMNS])
    assert _nonzero_dims(charted) == _nonzero_dims(by_kind)


def _nonzero_dims(metrics: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    kept = {metric: {dim: v for dim, v in dims.items() if v} for metric, dims in metrics.items()}
    return {metric: dims for metric, dims in kept.items() if dims}


# ---------------------------------------------------------------- the common case


def test_the_fund_subsidies_calls_and_authors_shares_carry_and_settle_in_the_federation(ledger, runner, make_ledger):
    _founder_a(ledger)
    _founder_b(ledger)
    report = _federate(ledger, ["fa", "fb"]).report
    w = _write_side(ledger)
    fund = w["pots"][FUND]
    assert (fund.received_cents, fund.awarded_cents, fund.paid_cents, fund.reserved_cents) == (3400_00, 1400_00, 300_00, 600_00)
    assert (fund.unspent_cents, fund.available_cents, fund.cash_cents) == (2000_00, 1400_00, 3100_00)
    assert set(w["subsidies"]) == {"sub-region", "sub-city"}  # sub-done had nothing open
    region = w["pots"][subsidy_source("sub-region")]
    assert (region.unspent_cents, region.available_cents, region.cash_cents) == (3500_00, 2500_00, 2000_00)
    assert set(w["calls"]) == {"call-a", "call-s"} and w["calls"]["call-s"].source == "subsidy:sub-region"
    assert {a: (g.awarded_cents, g.paid_cents, g.member_id) for a, g in w["grants"].items()} == {
        "app-a1": (800_00, 300_00, "fa.A2"),
        "app-a2": (600_00, 0, None),
        "app-a3": (0, 0, None),
        "app-s1": (500_00, 0, None),
    }
    assert w["owed"] == {"fa.A1": 50_00, "fb.B1": 45_00}
    assert w["pledges"] == {
        "pa": ("fa.A1", 2024, 3, [(2024, 3000_00, 3000_00)]),
        "pb": ("fb.B1", 2024, 3, [(2024, 1000_00, 400_00)]),
    }
    open_items = {f["coop"]: {(i["account"], i["party"]): i["amount_minor"] for i in f["open_items"]} for f in report["founders"]}
    assert open_items == {
        "fa": {("195", None): -1600_00, ("194", "sub-region"): -3500_00, ("4672", "fa.A1"): -50_00},
        "fb": {("195", None): -400_00, ("194", "sub-city"): -1000_00, ("4672", "fb.B1"): -45_00},
    }
    assert_books_match_state(ledger, runner)
    assert_read_side_is_write_side(ledger, runner)

    # The family's commands settle the carried items, with the founder's limits.
    assert_refused(
        ledger, UseSubsidy(FED, "sub-region", D("2500.01"), "Trop", AFTER), "amount", "subsidy_available", InvalidCommand, FED
    )
    ok(ledger, UseSubsidy(FED, "sub-region", D(1000), "Ateliers d'été", AFTER))
    assert_refused(ledger, UseSubsidy(FED, "sub-done", D(1), "Fête", AFTER), "subsidy_id", "known_subsidy", NotFound, FED)
    assert_refused(
        ledger, ReceiveSubsidy(FED, "sub-region", D("3000.01"), AFTER), "amount", "within_granted", InvalidCommand, FED
    )
    ok(ledger, ReceiveSubsidy(FED, "sub-region", D(3000), AFTER))
    assert_refused(ledger, AwardGrant(FED, "app-a3", D("600.01"), AFTER), "amount", "envelope", InvalidCommand, FED)
    ok(ledger, AwardGrant(FED, "app-a3", D(600), AFTER))
    assert_refused(ledger, AwardGrant(FED, "app-a1", D(100), AFTER), "application_id", "awarded_once", Conflict, FED)
    assert_refused(ledger, PayGrant(FED, "app-a1", D("500.01"), AFTER), "amount", "within_award", InvalidCommand, FED)
    ok(ledger, PayGrant(FED, "app-a1", D(500), AFTER))
    ok(ledger, WithdrawGrant(FED, "app-a2", "Projet abandonné", AFTER))
    assert_refused(ledger, CloseCall(FED, "call-a", AFTER), "call_id", "grants_settled", InvalidCommand, FED)
    ok(ledger, PayGrant(FED, "app-a3", D(600), AFTER))
    ok(ledger, CloseCall(FED, "call-a", AFTER))
    ok(ledger, PayGrant(FED, "app-s1", D(500), AFTER))
    # The fund: 3,400 received; awarded 800 + 600 (a3) = 1,400 net of a2's withdrawal; all paid.
    fund = ledger.cooperative(FED).grants.pots[FUND].totals
    assert (fund.unspent_cents, fund.available_cents, fund.cash_cents, fund.reserved_cents) == (2000_00, 2000_00, 2000_00, 0)
    assert_refused(
        ledger,
        OpenCall(FED, "call-f", "Appel F", D("2000.01"), D(100), D(500), 2, AFTER),
        "envelope",
        "envelope_available",
        InvalidCommand,
        FED,
    )
    ok(ledger, OpenCall(FED, "call-f", "Appel F", D(2000), D(100), D(500), 2, AFTER))
    # The pledges go on: a year declared in the founder is not declared again; what is due is paid into the fund.
    assert_refused(ledger, DeclareContributionResult(FED, "pa", 2024, D(1000), AFTER), "year", "declared_once", Conflict, FED)
    assert_refused(ledger, PayContribution(FED, "pb", 2024, D("600.01"), AFTER), "amount", "no_overpayment", InvalidCommand, FED)
    ok(ledger, PayContribution(FED, "pb", 2024, D(600), AFTER))
    ok(ledger, DeclareContributionResult(FED, "pa", 2025, D(10000), date(2026, 1, 15)))
    ok(ledger, PayContribution(FED, "pa", 2025, D(500), date(2026, 1, 20)))
    assert ledger.cooperative(FED).grants.pots[FUND].totals.available_cents == 1100_00
    assert_refused(ledger, PayAuthor(FED, "fa.A1", D("50.01"), AFTER), "amount", "no_overpayment", InvalidCommand, FED)
    assert_refused(ledger, PayAuthor(FED, "A1", D(1), AFTER), "author_id", "known_author", NotFound, FED)
    ok(ledger, PayAuthor(FED, "fa.A1", D(50), AFTER))
    ok(ledger, PayAuthor(FED, "fb.B1", D(20), AFTER))
    assert_books_match_state(ledger, runner)
    assert_read_side_is_write_side(ledger, runner)
    assert account_balance(ledger.db, FED, "195") == -3100_00 and account_balance(ledger.db, FED, "4686") == 0
    # The carried events decode from the store to the same state; the projections rebuild to the same rows.
    assert _write_side(make_ledger()) == _write_side(ledger)
    incremental = dump_projections(runner)
    runner.rebuild()
    assert dump_projections(runner) == incremental
    tiny = ProjectionRunner(ledger, batch_size=1, rebuild_batch_size=1)
    tiny.rebuild()
    assert dump_projections(tiny) == incremental


# ---------------------------------------------------------------- what is not carried, and clashes


def test_what_is_owed_to_an_author_who_left_is_not_carried_until_paid(ledger, runner):
    _found(ledger, "fa", ["A1", "A2"])
    ok(ledger, DeclareCourse("fa", "course-a", "Cours A", "A1", "0.2", date(2025, 2, 1)))
    ok(ledger, CollectCourseContribution("fa", "course-a", "order-1", D(100), date(2025, 3, 1)))
    ok(ledger, ResignMember("fa", "A1", date(2025, 5, 1)))
    error = _refused_federation(ledger, ["fa"], "founders[0]", "open_items_not_carried", InvalidCommand)
    assert "4672" in error.message and "A1" in error.message and "80.00 EUR" in error.message and "PayAuthor" in error.message
    ok(ledger, PayAuthor("fa", "A1", D(80), date(2025, 6, 1)))
    _federate(ledger, ["fa"])
    runner.catch_up()
    assert ledger.cooperative(FED).levy.author_moves == {} and author_balances(ledger.db, FED) == []


def test_a_dedicated_balance_does_not_cross_into_another_chart(ledger):
    _found(ledger, "fa", ["A1"])
    _contribution(ledger, "fa", "pa", "A1", "60000", "3000")
    scic = {
        "legal_form": "scic",
        "share_value": D(50),
        "colleges": [
            FederationCollege("fa", "Collège A", ["fa"]),
            FederationCollege("b", "Collège B", []),
            FederationCollege("c", "Collège C", []),
        ],
    }
    error = _refused_federation(ledger, ["fa"], "founders[0]", "open_items_not_carried", InvalidCommand, **scic)
    assert "3000.00 EUR" in error.message and "195" in error.message and "4875" in error.message
    # An author's share likewise (4672 in the association plan, 467 in the general plan).
    _found(ledger, "fb", ["B1"])
    ok(ledger, DeclareCourse("fb", "course-b", "Cours B", "B1", "0.1", date(2025, 2, 1)))
    ok(ledger, CollectCourseContribution("fb", "course-b", "order-1", D(50), date(2025, 3, 1)))
    scic["colleges"][0] = FederationCollege("fb", "Collège B", ["fb"])
    error = _refused_federation(ledger, ["fb"], "founders[0]", "open_items_not_carried", InvalidCommand, **scic)
    assert "45.00 EUR" in error.message and "4672" in error.message and "on 467:" in error.message


@pytest.mark.parametrize("clash", ["subsidy", "call", "application", "pledge"])
def test_an_id_carried_from_two_founders_is_a_conflict(ledger, clash):
    for slug, member in (("fa", "A1"), ("fb", "B1")):
        _found(ledger, slug, [member])
        ok(ledger, PledgeContribution(slug, "p-x" if clash == "pledge" else f"p-{slug}", member, "5", 2025, date(2025, 1, 10)))
        subsidy = "sub-x" if clash == "subsidy" else f"sub-{slug}"
        ok(ledger, RecordSubsidy(slug, subsidy, "Région", "Ateliers", D(1000), date(2025, 2, 1)))
        call = "call-x" if clash == "call" else f"call-{slug}"
        ok(ledger, OpenCall(slug, call, "Appel", D(500), D(100), D(500), 1, date(2025, 3, 1), subsidy_id=subsidy))
        application = "app-x" if clash == "application" else f"app-{slug}"
        ok(ledger, RecordApplication(slug, call, application, "Projet", date(2025, 3, 5), member_id=member))
    error = _refused_federation(ledger, ["fa", "fb"], "founders[1]", f"unique_{clash}", Conflict)
    assert "fb" in error.message and "already carried from fa" in error.message


def test_settled_items_are_not_carried_so_their_ids_do_not_clash(ledger, runner):
    for slug, member in (("fa", "A1"), ("fb", "B1")):
        _found(ledger, slug, [member])
        ok(ledger, RecordSubsidy(slug, "sub-x", "Région", "Ateliers", D(1000), date(2025, 2, 1)))
        ok(ledger, ReceiveSubsidy(slug, "sub-x", D(1000), date(2025, 2, 2)))
    ok(ledger, UseSubsidy("fa", "sub-x", D(1000), "Ateliers", date(2025, 3, 1)))  # fa's is settled, fb's is not
    _federate(ledger, ["fa", "fb"])
    carried = ledger.cooperative(FED).subsidies.subsidies
    assert list(carried) == ["sub-x"] and (carried["sub-x"].granted_cents, carried["sub-x"].used_cents) == (1000_00, 0)
    assert_books_match_state(ledger, runner)
    assert_read_side_is_write_side(ledger, runner)


def test_a_pledge_of_a_member_who_left_stays_behind(ledger, runner):
    _found(ledger, "fa", ["A1", "A2"])
    _contribution(ledger, "fa", "pa", "A1", "60000", "1000")  # 2,000 of the 2024 contribution still due
    _contribution(ledger, "fa", "pb", "A2", "20000", "1000")  # fully paid, 2025 and 2026 still to declare
    ok(ledger, ResignMember("fa", "A1", date(2025, 5, 1)))
    _federate(ledger, ["fa"])  # a pledge is no receivable: nothing on the books refuses the federation
    assert_books_match_state(ledger, runner)
    assert_read_side_is_write_side(ledger, runner)
    assert _write_side(ledger)["pledges"] == {"pb": ("fa.A2", 2024, 3, [(2024, 1000_00, 1000_00)])}
    assert_refused(ledger, PayContribution(FED, "pa", 2024, D(1), AFTER), "pledge_id", "known_pledge", NotFound, FED)
