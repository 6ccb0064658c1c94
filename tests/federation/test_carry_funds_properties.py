"""Property (both stores): over random founders' funds, subsidies, calls for projects, pledges and
authors' shares, in either chart, the federation carries them so that (1) its pots add up to the founders'
(unspent, available, cash, committed), (2) its books equal its state party by party on the fund's,
the subsidies', 441, 4686 and the authors' accounts, and the read side equals the write side, and
(3) the family's commands settle everything there: grants paid or withdrawn, calls closed,
subsidies received and used up, authors paid.

Each example founds its own founders and federation (slugs numbered per example) in one store."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.contributions import DeclareContributionResult, PayContribution, PledgeContribution
from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
from domain.federation import FederateCooperatives, FederationCollege
from domain.grants import AwardGrant, CloseCall, OpenCall, PayGrant, RecordApplication, WithdrawGrant
from domain.levy import CollectCourseContribution, DeclareCourse, PayAuthor
from domain.membership import AdmitMember
from domain.pots import FUND, subsidy_source
from domain.subsidies import ReceiveSubsidy, RecordSubsidy, UseSubsidy
from tests.builders import ok

from .test_carry_funds import assert_books_match_state, assert_read_side_is_write_side

_examples = itertools.count(1)
START, DAY, AFTER = date(2025, 1, 1), date(2025, 7, 1), date(2025, 8, 1)
CHARTS = {"association": ("195", "194", "4672"), "scic": ("4875", "4876", "467")}

pct = st.integers(0, 100)
application = st.tuples(pct, pct, st.booleans())  # award, pay (% of what is possible), withdraw the rest
call = st.tuples(
    st.integers(0, 2), st.integers(1, 100), st.lists(application, max_size=3), st.booleans()
)  # pot, envelope %, apps, close
founder = st.fixed_dictionaries(
    {
        "contributions": st.lists(st.integers(1, 5000_00), max_size=2),
        "subsidies": st.lists(st.tuples(st.integers(1, 5000_00), pct, pct), max_size=2),  # granted, received %, used %
        "calls": st.lists(call, max_size=2),
        "course": st.tuples(st.integers(0, 300_00), pct),  # collected, paid out %
    }
)


def eur(cents: int) -> Decimal:
    return Decimal(cents) / 100


def _found(ledger, slug: str, legal_form: str) -> None:
    colleges = (
        [CollegeSpec("membres", "Membres")]
        if legal_form == "association"
        else [CollegeSpec("a", "A"), CollegeSpec("b", "B"), CollegeSpec("c", "C")]
    )
    ok(
        ledger,
        FoundCooperative(
            slug,
            f"Coop {slug}",
            legal_form,
            START,
            colleges,
            [FeeBracket(1, None, Decimal(40))],
            share_value=Decimal(50) if legal_form == "scic" else None,
        ),
    )
    for member_id in ("M0", "M1"):
        ok(ledger, AdmitMember(slug, member_id, f"Membre {member_id}", "person", colleges[0].code, START, 1))


def _history(ledger, slug: str, i: int, f: dict) -> None:
    for k, cents in enumerate(f["contributions"]):
        pledge = f"p{i}-{k}"  # ids are kept: unique across founders
        ok(ledger, PledgeContribution(slug, pledge, "M0", "100", 2024, date(2025, 1, 10)))
        ok(ledger, DeclareContributionResult(slug, pledge, 2024, eur(cents), date(2025, 1, 15)))
        ok(ledger, PayContribution(slug, pledge, 2024, eur(cents), date(2025, 2, 1)))
    subsidies = []
    for k, (granted, received, used) in enumerate(f["subsidies"]):
        sid = f"s{i}-{k}"
        ok(ledger, RecordSubsidy(slug, sid, "Région", "Ateliers", eur(granted), date(2025, 2, 1)))
        if granted * received // 100:
            ok(ledger, ReceiveSubsidy(slug, sid, eur(granted * received // 100), date(2025, 2, 10)))
        if granted * used // 100:
            ok(ledger, UseSubsidy(slug, sid, eur(granted * used // 100), "Animation", date(2025, 2, 20)))
        subsidies.append(sid)
    for k, (source, envelope_pct, apps, close) in enumerate(f["calls"]):
        subsidy = subsidies[source - 1] if 0 < source <= len(subsidies) else None
        pot = ledger.cooperative(slug).grants.pots[subsidy_source(subsidy) if subsidy else FUND]
        envelope = pot.lowest_from(date(2025, 3, 1), lambda f: f.available_cents) * envelope_pct // 100
        if envelope == 0:
            continue
        cid = f"c{i}-{k}"
        ok(
            ledger,
            OpenCall(slug, cid, "Appel", eur(envelope), Decimal("0.01"), eur(envelope), 3, date(2025, 3, 1), subsidy_id=subsidy),
        )
        for j, (award, pay, withdraw) in enumerate(apps):
            aid = f"a{i}-{k}-{j}"
            ok(
                ledger,
                RecordApplication(
                    slug,
                    cid,
                    aid,
                    "Projet",
                    date(2025, 3, 5),
                    member_id="M1" if j % 2 else None,
                    applicant=None if j % 2 else "Collectif",
                ),
            )
            state = ledger.cooperative(slug)
            c = state.grants.calls[cid]
            amount = (c.envelope_cents - c.awarded_cents) * award // 100
            if amount == 0:
                continue
            ok(ledger, AwardGrant(slug, aid, eur(amount), date(2025, 4, 1)))
            cash = state.grants.pots[c.source].lowest_from(date(2025, 4, 15), lambda f: f.cash_cents)
            paid = min(amount, cash) * pay // 100
            if paid:
                ok(ledger, PayGrant(slug, aid, eur(paid), date(2025, 4, 15)))
            if withdraw and paid < amount:
                ok(ledger, WithdrawGrant(slug, aid, "Abandon", date(2025, 5, 1)))
        c = ledger.cooperative(slug).grants.calls[cid]
        if close and not any(g.outstanding_cents for g in c.grants.values()):
            ok(ledger, CloseCall(slug, cid, date(2025, 5, 15)))
    collected, paid_pct = f["course"]
    ok(ledger, DeclareCourse(slug, "course", "Cours", "M0", "0.25", date(2025, 2, 1)))
    if collected:
        ok(ledger, CollectCourseContribution(slug, "course", "order-1", eur(collected), date(2025, 3, 1)))
        owed = sum(ledger.cooperative(slug).levy.author_moves["M0"].values())
        if owed * paid_pct // 100:
            ok(ledger, PayAuthor(slug, "M0", eur(owed * paid_pct // 100), date(2025, 4, 1)))


def _derived(pots) -> tuple[int, int, int, int]:
    return (
        sum(p.totals.unspent_cents for p in pots),
        sum(p.totals.available_cents for p in pots),
        sum(p.totals.cash_cents for p in pots),
        sum(p.totals.committed_cents for p in pots),
    )


def _settle_everything(ledger, fed: str) -> None:
    state = ledger.cooperative(fed)
    for aid in sorted(state.grants.grants):
        state = ledger.cooperative(fed)
        grant = state.grants.grants[aid]
        if grant.awarded_cents and grant.outstanding_cents:
            cash = state.grants.pots[state.grants.calls[grant.call_id].source].totals.cash_cents
            if min(cash, grant.outstanding_cents):
                ok(ledger, PayGrant(fed, aid, eur(min(cash, grant.outstanding_cents)), AFTER))
            if ledger.cooperative(fed).grants.grants[aid].outstanding_cents:
                ok(ledger, WithdrawGrant(fed, aid, "Solde retiré", AFTER))
    for cid in sorted(ledger.cooperative(fed).grants.calls):
        ok(ledger, CloseCall(fed, cid, AFTER))
    for sid, subsidy in sorted(ledger.cooperative(fed).subsidies.subsidies.items()):
        if subsidy.granted_cents > subsidy.received_cents:
            ok(ledger, ReceiveSubsidy(fed, sid, eur(subsidy.granted_cents - subsidy.received_cents), AFTER))
        available = ledger.cooperative(fed).grants.pots[subsidy_source(sid)].totals.available_cents
        if available:
            ok(ledger, UseSubsidy(fed, sid, eur(available), "Solde utilisé", AFTER))
    for author, moves in sorted(ledger.cooperative(fed).levy.author_moves.items()):
        ok(ledger, PayAuthor(fed, author, eur(sum(moves.values())), AFTER))


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(founders=st.lists(founder, min_size=1, max_size=2), legal_form=st.sampled_from(["association", "scic"]))
def test_carried_funds_add_up_match_the_books_and_settle(ledger, runner, founders, legal_form):
    n = next(_examples)
    slugs = [f"q{n}-f{i}" for i in range(len(founders))]
    for i, (slug, f) in enumerate(zip(slugs, founders, strict=True)):
        _found(ledger, slug, legal_form)
        _history(ledger, slug, i, f)
    before = [ledger.cooperative(slug) for slug in slugs]
    colleges = [FederationCollege(f"col{i}", f"Collège {i}", [slug]) for i, slug in enumerate(slugs)]
    colleges += [FederationCollege(f"extra{k}", "Autre", []) for k in range(3 - len(colleges))] if legal_form == "scic" else []
    fed = f"q{n}-fed"
    result = ledger.execute(
        FederateCooperatives(
            fed,
            "Fédération",
            legal_form,
            DAY,
            slugs,
            [FeeBracket(1, None, Decimal(50))],
            colleges=colleges,
            share_value=Decimal(50) if legal_form == "scic" else None,
            member_ids="prefix",
        ),
        f"q{n}-fed",
    )
    assert result.accepted, result.error and result.error.as_dict()
    federation = ledger.cooperative(fed)
    # (1) The pots add up: the fund merges, each open subsidy keeps its own.
    assert _derived([federation.grants.pots[FUND]]) == tuple(
        map(sum, zip(*(_derived([c.grants.pots[FUND]]) for c in before), strict=True))
    )
    for c in before:
        for sid, subsidy in c.subsidies.subsidies.items():
            mine, theirs = c.grants.pots[subsidy_source(sid)], federation.grants.pots.get(subsidy_source(sid))
            if theirs is None:  # nothing was left open on it
                assert (
                    mine.totals.unspent_cents,
                    mine.totals.committed_cents,
                    subsidy.granted_cents - subsidy.received_cents,
                ) == (0, 0, 0)
            else:
                assert _derived([theirs]) == _derived([mine])
    # (2) Books, state and read side agree.
    assert_books_match_state(ledger, runner, fed, CHARTS[legal_form])
    assert_read_side_is_write_side(ledger, runner, fed)
    # (3) Everything settles with the family's commands.
    _settle_everything(ledger, fed)
    settled = ledger.cooperative(fed)
    assert not any(g.outstanding_cents for g in settled.grants.grants.values())
    assert all(c.closed_on for c in settled.grants.calls.values())
    assert all(p.totals.unspent_cents == 0 for s, p in settled.grants.pots.items() if s != FUND)
    assert settled.grants.pots[FUND].totals.reserved_cents == 0
    assert all(sum(moves.values()) == 0 for moves in settled.levy.author_moves.values())
    assert_books_match_state(ledger, runner, fed, CHARTS[legal_form])
    assert_read_side_is_write_side(ledger, runner, fed)
