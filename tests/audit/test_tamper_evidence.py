"""Every stored event is tamper-evident, whatever its class and whichever field is edited.

The books are built from the demo, a history with exclusions and a cancelled contribution
declaration, a cancelled tax receipt, and the federation scenarios of the carry tests, so that the store holds an event of
EVERY event class (asserted: a new class without a scenario here fails this test by name). Then,
on SQLite and PostgreSQL:

- exhaustively: for one stored event of each class, each top-level field in turn is changed in the
  stored row (and put back), and `verify` must fail naming that event's version;
- as a property: a random nested value of a random event is changed, or a row is deleted, two rows
  swapped, a forged event appended, or the tail cut off with everything that names it; `verify`
  must fail naming the first event concerned, and pass again once the store is put back;
- a history rewritten from the first event with every link recomputed passes any check that
  trusts only the store, and is caught by a head kept outside it (`--head N:HASH`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.contributions import CancelContributionResult, DeclareContributionResult, PledgeContribution
from domain.cooperative import coop_id
from domain.corrections import ReverseEntry
from domain.donations import RecordDonation
from domain.events import EVENT_CLASSES, TOPIC_PREFIX
from domain.identities import ForgetPerson
from domain.sepa import RecordDirectDebitCollection, RecordDirectDebitReturn, RevokeMandate
from domain.tax_receipts import CorrectTaxReceipt, DeclareReceiptEligibility, IssueTaxReceipts
from ledger.chain import CHAIN_TABLE, EVENTS_TABLES, GENESIS_LINK, link
from ledger.heads import Head
from ledger.links import StoredLinks
from ledger.service import Ledger
from ledger.stored_history import Claims, StoredHistory
from ledger.verify import verify_events, verify_store
from tests.builders import found_association, ok, record_demo, rich_history

Row = tuple[str, bytes]  # (topic, state)


# ---------------------------------------------------------------- books with every event class


def _every_scenario(ledger: Ledger, other: Ledger) -> None:
    """Records the scenarios; the two that name their federation "fed" go to `other`."""
    from tests.federation import test_carry_advertising as adv
    from tests.federation import test_carry_donations as dons
    from tests.federation import test_carry_funds as funds
    from tests.federation import test_carry_hours as hours
    from tests.federation import test_carry_receivables as receivables
    from tests.federation import test_carry_sensors as sensors
    from tests.federation import test_carry_shares as shares
    from tests.federation.conftest import run

    record_demo(ledger)
    rich_history(ledger)
    # carol resigned in 2020, owes nothing (her call was reversed) and gave nothing: she may be forgotten.
    ok(ledger, ForgetPerson("demo", "carol", "her request", date.today()))
    # the SCIC's demo batch, collected on its due date, its item returned, a mandate revoked
    due = ledger.cooperative("mednum-scic").sepa.batches["PRLV-2026-01"].collection_date  # type: ignore[attr-defined]
    ok(ledger, RecordDirectDebitCollection("mednum-scic", "PRLV-2026-01", due))
    ok(ledger, RecordDirectDebitReturn("mednum-scic", "PRLV-2026-01", "PRLV-2026-01-00001", "AM04", due))
    ok(ledger, RevokeMandate("mednum-scic", "MNG-RUM-SAL01-1", date.today(), "changement de banque"))
    _bank_scenario(ledger)
    ok(ledger, PledgeContribution("demo", "P-X", "alice", "5", 2020, date(2020, 3, 1)))
    ok(ledger, DeclareContributionResult("demo", "P-X", 2020, Decimal("-100.00"), date(2021, 3, 1)))
    ok(ledger, CancelContributionResult("demo", "P-X", 2020, "restated", date(2021, 5, 1)))
    # A tax receipt whose only gift was reversed: cancelled.
    ok(ledger, found_association("tax-r"))
    ok(ledger, DeclareReceiptEligibility("tax-r", True, date(2020, 1, 1), "general_interest", "Objet", "Adresse"))
    gift = ok(ledger, RecordDonation("tax-r", "G1", "dora", "Dora", "individual", Decimal("20"), date(2021, 3, 1)))
    ok(ledger, IssueTaxReceipts("tax-r", 2021, date(2022, 1, 10)))
    ok(ledger, ReverseEntry("tax-r", gift.journal_numbers[0], "chèque impayé", date(2022, 2, 1)))
    ok(ledger, CorrectTaxReceipt("tax-r", "2021-0001", date(2022, 2, 2)))
    run(ledger, adv._lines("a", adv._founder_a) + adv._lines("b", adv._founder_b))
    assert adv._federate(ledger, "pub-fed", ["pub-a", "pub-b"]).accepted
    run(ledger, dons._lines("a", dons._founder_a) + dons._lines("b", dons._founder_b))
    assert dons._attempt(ledger, dons._federation("dons-fed", ["dons-a", "dons-b"])[0]).accepted
    for module, fed, founders, options in (
        (receivables, "rc-fed", ["rc-a", "rc-b"], {"member_ids": "prefix"}),
        (sensors, "cap-fed", ["cap-a", "cap-b"], {}),
        (hours, "sh-fed", ["sh-a", "sh-b"], {}),
    ):
        f = module.Founders(ledger)
        module._founder_a(f)
        module._founder_b(f)
        assert f.federate(fed, founders, **options).accepted
    funds._founder_a(ledger)
    funds._founder_b(ledger)
    assert funds._federate(ledger, ["fa", "fb"]).accepted
    shares._build(other)
    assert other.execute(shares._federation(), "shares-fed").accepted


def _bank_scenario(ledger: Ledger) -> None:
    """A statement imported and its line matched to alice's 2021 fee (called in rich_history)."""
    from domain.bank import OpenBankAccount
    from domain.bank_matching import Allocation, ConfirmBankMatch
    from ledger.bank_files import read_statements
    from ledger.bank_writers import Line, camt053

    ok(ledger, OpenBankAccount("demo", "BQ", "FR7630006000011234567890189", "Compte courant", date(2020, 1, 1)))
    account = ledger.cooperative("demo").bank.accounts["BQ"]
    line = Line(date(2021, 1, 15), Decimal("100.00"), "COTISATION ALICE", "T-1", "Alice", None)
    for command in read_statements(camt053("S-1", account.iban, Decimal("0"), [line], date(2021, 1, 31)), None, "demo", account):
        ok(ledger, command)
    (line_id,) = ledger.cooperative("demo").bank.lines
    ok(ledger, ConfirmBankMatch("demo", line_id, [Allocation("fee:alice:2021")]))


@pytest.fixture
def stores(make_ledger: Callable[[], Ledger], store_factory: Any) -> tuple[Ledger, Ledger]:
    from ledger.migrate import migrate
    from ledger.store import StoreConfig

    main = make_ledger()
    other = Ledger(StoreConfig.from_url(store_factory.new(migrated=True)))
    migrate(other.db)
    _every_scenario(main, other)
    yield main, other
    other.close()


# ---------------------------------------------------------------- raw rows


def _key(ledger: Ledger, slug: str, version: int) -> tuple[Any, int]:
    return (coop_id(slug).hex if ledger.db.dialect == "sqlite" else coop_id(slug)), version


def _events(ledger: Ledger) -> str:
    return EVENTS_TABLES[ledger.db.dialect]


def read_row(ledger: Ledger, slug: str, version: int) -> Row:
    with ledger.db.read() as tx:
        ((topic, state),) = tx.execute(
            f"SELECT topic, state FROM {_events(ledger)} WHERE originator_id = ? AND originator_version = ?",  # noqa: S608
            _key(ledger, slug, version),
        )
    return topic, bytes(state)


def write_row(ledger: Ledger, slug: str, version: int, row: Row) -> None:
    with ledger.db.transaction() as tx:
        tx.execute_one(
            f"UPDATE {_events(ledger)} SET topic = ?, state = ? WHERE originator_id = ? AND originator_version = ?",  # noqa: S608
            (*row, *_key(ledger, slug, version)),
        )


def stream(ledger: Ledger, slug: str) -> list[tuple[int, str]]:
    """(version, class name) of every stored event of a cooperative."""
    with ledger.db.read() as tx:
        rows = tx.execute(
            f"SELECT originator_version, topic FROM {_events(ledger)} WHERE originator_id = ? ORDER BY 1",  # noqa: S608
            (_key(ledger, slug, 0)[0],),
        )
    return [(int(v), t.removeprefix(TOPIC_PREFIX)) for v, t in rows]


def slugs(ledger: Ledger) -> list[str]:
    return [r.coop for r in verify_store(ledger)]


def verdict(ledger: Ledger, slug: str, claims: Claims | None = None, page: int = 1000) -> tuple[bool, int | None, str | None]:
    """verify's finding on one cooperative. With `claims` (the receipts' claims, read once by the
    caller when it edits no receipt), the store-wide scan of the receipts is not repeated; `page`
    is how many events verify reads at once (it stops at the first problem)."""
    if claims is None:
        (report,) = verify_store(ledger, slug)
    else:
        history = StoredHistory(ledger)
        last = history.last_link(slug)
        report = verify_events(slug, history.records(slug, page), claims, last_linked=last[0] if last else 0)
    return report.ok, report.problem.version if report.problem else None, report.problem.kind if report.problem else None


@contextmanager
def changed(ledger: Ledger, slug: str, version: int, row: Row) -> Iterator[None]:
    """The stored event at `version` replaced by `row` for the block, then put back."""
    original = read_row(ledger, slug, version)
    write_row(ledger, slug, version, row)
    try:
        yield
    finally:
        write_row(ledger, slug, version, original)


def mutate(value: Any) -> Any:
    """Another value of the same JSON shape: every kind of field the events hold changes."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if value is None:
        return "x"
    if isinstance(value, list):
        return value[:-1] if value else [1]
    if isinstance(value, dict) and "_sealed_" in value:  # a sealed identity: another ciphertext
        return {**value, "_data_": "A" + value["_data_"][1:] if value["_data_"][0] != "A" else "B" + value["_data_"][1:]}
    if isinstance(value, dict) and "_data_" in value:  # a transcoded date or time: shift it
        return {**value, "_data_": mutate(value["_data_"]) if value["_type_"] != "date_iso" else "1999-01-01"}
    assert isinstance(value, dict)
    return {**value, "x": 1}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# ---------------------------------------------------------------- tests


def test_an_edit_of_any_field_of_any_event_class_is_named_by_verify(stores):
    main, other = stores
    assert all(r.ok for ledger in stores for r in verify_store(ledger)), "the honest store must verify first"
    seen: dict[str, tuple[Ledger, str, int]] = {}  # per class, its earliest event: fewer events to read again
    for ledger in (main, other):
        for slug in slugs(ledger):
            for version, kind in stream(ledger, slug):
                if kind not in seen or version < seen[kind][2]:
                    seen[kind] = (ledger, slug, version)
    missing = sorted(set(EVENT_CLASSES) - set(seen))
    assert not missing, f"no scenario of this test records {missing}: add one, so every event class is covered"
    claims = {id(ledger): StoredHistory(ledger).cooperatives_and_claims()[0] for ledger in stores}
    edits = 0
    for kind, (ledger, slug, version) in sorted(seen.items()):
        topic, state = read_row(ledger, slug, version)
        payload = json.loads(state)
        assert encode(payload) == state, f"{kind}: the test's encoding must equal the store's, so only the edit differs"
        for name in payload:
            with changed(ledger, slug, version, (topic, encode({**payload, name: mutate(payload[name])}))):
                good, where, why = verdict(ledger, slug, claims[id(ledger)][slug], page=version)
            assert not good and where == version, f"{kind}.{name} edited at version {version}: verify said {why} at {where}"
            edits += 1
    assert edits > 5 * len(EVENT_CLASSES)
    assert all(r.ok for ledger in stores for r in verify_store(ledger))


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict) and "_data_" not in value:
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _set(value[path[0]], path[1:], new)
    return copy


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None
)  # examples: the profile
@given(data=st.data())
def test_any_nested_edit_deletion_swap_insertion_or_cut_is_named(stores, data):
    ledger = stores[0]
    slug = data.draw(st.sampled_from(["cluster-numerique-sud", "mednum-scic", "grappe-numerique-occitanie", "demo", "fed"]))
    events = stream(ledger, slug)
    last = events[-1][0]
    version = data.draw(st.integers(1, last), label="version")
    action = data.draw(st.sampled_from(["edit", "delete", "swap", "append", "cut"]), label="action")
    table, key = _events(ledger), _key(ledger, slug, version)
    if action == "edit":
        topic, state = read_row(ledger, slug, version)
        payload = json.loads(state)
        path = data.draw(st.sampled_from([p for p in _leaves(payload) if p]), label="field")
        with changed(ledger, slug, version, (topic, encode(_set(payload, path, mutate(_get(payload, path)))))):
            assert verdict(ledger, slug)[:2] == (False, version)
    elif action == "delete":  # the row goes; its link stays (deleting the link as well is the same hole)
        row = read_row(ledger, slug, version)
        with ledger.db.transaction() as tx:
            tx.execute_one(f"DELETE FROM {table} WHERE originator_id = ? AND originator_version = ?", key)  # noqa: S608
        try:
            assert verdict(ledger, slug)[:2] == (False, version)
        finally:
            with ledger.db.transaction() as tx:
                tx.execute(
                    f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",  # noqa: S608
                    (*key, *row),
                )
    elif action == "swap":
        other = data.draw(
            st.integers(1, last).filter(lambda v: read_row(ledger, slug, v) != read_row(ledger, slug, version)), label="with"
        )
        first, second = sorted((version, other))
        with (
            changed(ledger, slug, first, read_row(ledger, slug, second)),
            changed(ledger, slug, second, read_row(ledger, slug, first)),
        ):
            assert verdict(ledger, slug)[:2] == (False, first)
    elif action == "append":  # a forged event after the last, a copy of an honest one: it has no link
        copy = read_row(ledger, slug, version)
        with ledger.db.transaction() as tx:
            tx.execute(
                f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",  # noqa: S608
                (key[0], last + 1, *copy),
            )
        try:
            assert verdict(ledger, slug)[:2] == (False, last + 1)
        finally:
            with ledger.db.transaction() as tx:
                tx.execute_one(f"DELETE FROM {table} WHERE originator_id = ? AND originator_version = ?", (key[0], last + 1))  # noqa: S608
    else:  # cut: the events from `version` on go, with their links
        rows = [(v, *read_row(ledger, slug, v)) for v in range(version, last + 1)]
        links = StoredLinks(ledger.db).between(coop_id(slug), version - 1, last)
        _cut(ledger, key[0], version)
        try:
            assert verdict(ledger, slug)[:2] == (False, version)
        finally:
            with ledger.db.transaction() as tx:
                tx.executemany(
                    f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",  # noqa: S608
                    [(key[0], v, t, s) for v, t, s in rows],
                )
                tx.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?, ?, ?)", [(key[0], v, h) for v, h in links.items()])  # noqa: S608
    assert verdict(ledger, slug) == (True, None, None)


def _cut(ledger: Ledger, originator: Any, version: int) -> None:
    with ledger.db.transaction() as tx:
        for table in (_events(ledger), CHAIN_TABLE):
            tx.execute(f"DELETE FROM {table} WHERE originator_id = ? AND originator_version >= ?", (originator, version))  # noqa: S608


def test_a_history_rewritten_with_every_link_recomputed_is_caught_by_a_head_kept_outside(stores):
    """Inside the store, a forger who recomputes every link after an edit, and removes the receipts'
    evidence of a cut, leaves nothing to find: the head written in the minutes is what catches it."""
    ledger = stores[0]
    slug = "mednum-scic"
    (honest,) = verify_store(ledger, slug)
    minutes = Head.parse(honest.head)  # what the board wrote down at its assembly
    assert verify_store(ledger, slug, expected_head=minutes)[0].ok
    # Rewrite: one FeePaid's amount changed, then every link from there on recomputed.
    version = next(v for v, kind in stream(ledger, slug) if kind == "FeePaid")
    topic, state = read_row(ledger, slug, version)
    payload = json.loads(state)
    write_row(ledger, slug, version, (topic, encode({**payload, "amount_cents": payload["amount_cents"] + 100})))
    originator = coop_id(slug)
    prev = StoredLinks(ledger.db).between(originator, version - 2, version - 1).get(version - 1, GENESIS_LINK)
    key = _key(ledger, slug, 0)[0]
    rows = [(v, *read_row(ledger, slug, v)) for v in range(version, minutes.version + 1)]
    with ledger.db.transaction() as tx:
        for v, t, s in rows:
            prev = link(prev, originator, v, t, s)
            tx.execute_one(
                f"UPDATE {CHAIN_TABLE} SET event_hash = ? WHERE originator_id = ? AND originator_version = ?", (prev, key, v)
            )  # noqa: S608
    (rewritten,) = verify_store(ledger, slug)
    assert rewritten.ok, "a full rewrite passes any check that trusts only the store"
    (checked,) = verify_store(ledger, slug, expected_head=minutes)
    assert not checked.ok and checked.problem.kind == "head_mismatch" and checked.head_check["ok"] is False
    assert str(minutes) in checked.problem.message
