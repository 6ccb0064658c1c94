"""SEPA direct debit, property on both stores: whatever batches, collections and returns are tried
(refused ones included), each member's 411 balance is what was called, less what was collected,
plus what was returned, in the aggregate, in the journal and in the views; and the fee still due
on the call says the same."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.fees import CallFee
from domain.sepa import (
    IssueDirectDebits,
    RecordDirectDebitCollection,
    RecordDirectDebitReturn,
    RecordMandate,
    SetCreditorIdentifier,
    sepa_state,
    today,
)
from domain.sepa_rules import RETURN_REASONS, earliest_collection
from projections.balances import account_balance
from tests.builders import admit, found_association, new_key, ok

MEMBERS = ("M-1", "M-2", "M-3", "M-4")
FEE = 100_00  # the builders' schedule, headcount 1
_slugs = itertools.count(1)

op = st.one_of(
    st.just(("batch",)),
    st.tuples(st.just("collect"), st.integers(0, 3)),  # the n-th batch issued
    st.tuples(st.just("return"), st.sampled_from(MEMBERS), st.sampled_from(sorted(RETURN_REASONS))),
)


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(with_mandate=st.lists(st.booleans(), min_size=4, max_size=4), steps=st.lists(op, min_size=1, max_size=12))
def test_411_is_called_less_collected_plus_returned(ledger, runner, with_mandate, steps):
    slug = f"sepa-{next(_slugs)}"
    year, due = today().year, earliest_collection(today())
    ok(ledger, found_association(slug))
    ok(ledger, SetCreditorIdentifier(slug, "FR72ZZZ123456", "FR7642559100000800123456771", "CCOPFRPPXXX", "Coop"))
    for member_id, has in zip(MEMBERS, with_mandate, strict=True):
        ok(ledger, admit(slug, member_id, "users", date(2020, 2, 1)))
        ok(ledger, CallFee(slug, member_id, year, date(year, 1, 2)))
        if has:
            iban = "FR7620041010050500013026052"
            ok(ledger, RecordMandate(slug, member_id, f"RUM-{member_id}", iban, "PSSTFRPP", today() - timedelta(days=3)))
    collected, returned = Counter[str](), Counter[str]()
    batches: list[str] = []
    for i, step in enumerate(steps):
        state = sepa_state(ledger.cooperative(slug))
        if step[0] == "batch":
            result = ledger.execute(IssueDirectDebits(slug, f"B{i}", year, due), new_key())
            if result.accepted:
                batches.append(f"B{i}")
        elif step[0] == "collect" and step[1] < len(batches):
            batch = state.batches[batches[step[1]]]
            if ledger.execute(RecordDirectDebitCollection(slug, batch.batch_id, due), new_key()).accepted:
                collected.update({item.member_id: item.amount_cents for item in batch.items})
        elif step[0] == "return":
            found = [(b.batch_id, it) for b in state.batches.values() for it in b.items if it.member_id == step[1]]
            for batch_id, item in found[-1:]:  # the member's latest item, whatever its status
                was = item.status  # the item is the aggregate's: the command changes it
                command = RecordDirectDebitReturn(slug, batch_id, item.end_to_end_id, step[2], due + timedelta(days=1))
                if ledger.execute(command, new_key()).accepted:
                    assert was == "collected"
                    returned[step[1]] += item.amount_cents
                else:
                    assert was != "collected"
    runner.catch_up()
    coop = ledger.cooperative(slug)
    for member_id in MEMBERS:
        expected = FEE - collected[member_id] + returned[member_id]
        assert 0 <= expected <= FEE
        assert coop.journal.party_balances[member_id][("411", "EUR")] == expected
        assert account_balance(runner.db, slug, "411", party=member_id) == expected
        assert coop.fee_calls[(member_id, year)].due_cents == expected
    assert account_balance(runner.db, slug, "512") == sum(collected.values()) - sum(returned.values())
