"""Forgetting a person (domain/identities.py), pure rules (no store).

The cooperative was founded on 2015-01-01. Alice joined on 2015-02-01, paid her 2015 fee, voted on
the 2015 accounts, gave 50.00 in 2016 and resigned at the end of 2016: from 2023 on (2016 + 6 years
of tax receipt) nothing holds her identity any more. Bob is still a member; Carol resigned with her
2015 fee unpaid; Dave gave in 2021; Erin advertised in 2019. The store's part (sealing, deleting the
key) is the ledger's; here the aggregate is replayed from the same events, read as the store would
read them once the person is forgotten (`forgotten_copy`), or as decoded from clear identity
fields (`identity_in_clear`).
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.advertising import InvoiceAdvertising, PayAdvertisingInvoice, SignAdvertisingContract
from domain.cooperative import Cooperative, found_cooperative
from domain.donations import Backer, RecordCrowdfundingPayout, RecordDonation, donations_state
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import CoopEvent, Meta
from domain.family import Fact, fact_of, handler_of
from domain.fees import CallFee, PayFee
from domain.governance import CastVote, RecordResolution
from domain.identities import ForgetPerson, PersonForgotten
from domain.membership import ResignMember
from domain.personal import pseudonym
from domain.shared_hours import EngageSharedEmployee, SetEthicalMinimumRate
from ledger.snapshot_check import dump
from tests.builders import Books, admit, found_association

D = Decimal
FOUNDED = date(2015, 1, 1)
FORGET_ON = date(2024, 3, 1)


class History(Books):
    """Books founded on FOUNDED that keep every event, to replay them as the store would read them."""

    def __init__(self) -> None:
        self.slug = "c"
        self.meta = Meta(actor="admin", idempotency_key="k")
        self.coop = found_cooperative(None, found_association("c", founded_on=FOUNDED), self.meta)
        self.events: list[CoopEvent] = list(self.coop.collect_events())
        self.entries = []

    def do(self, command: Any) -> list[Any]:
        events = super().do(command)
        self.events.extend(events)
        return events

    def replay(self, read: Any = lambda event: event) -> Cooperative:
        """A fresh aggregate from every event, each as `read` gives it back (the store's reading)."""
        aggregate = None
        for event in self.events:
            aggregate = read(event).mutate(aggregate)
        assert aggregate is not None
        return aggregate


def donation(gift: str, donor: str, day: date, address: str | None = None) -> RecordDonation:
    return RecordDonation("c", gift, donor, f"Donor {donor}", "individual", D("50"), day, donor_address=address)


def forget(person: str, day: date = FORGET_ON, reason: str = "asked to be forgotten by letter of 2024-02-20") -> ForgetPerson:
    return ForgetPerson("c", person, reason, day)


@pytest.fixture
def h() -> History:
    h = History()
    for member, day in (("alice", date(2015, 2, 1)), ("bob", date(2015, 2, 1)), ("carol", date(2015, 3, 1))):
        h.do(admit("c", member, "users", day))
    h.do(CallFee("c", "alice", 2015, date(2015, 2, 1)))
    h.do(PayFee("c", "alice", 2015, D("100"), date(2015, 2, 10)))
    h.do(RecordResolution("c", "R2015", "Comptes 2015", "ordinary", date(2015, 6, 30)))
    h.do(CastVote("c", "R2015", "alice", "for"))
    h.do(donation("D1", "alice", date(2016, 3, 1), address="1 rue des Lilas, Lyon"))
    h.do(ResignMember("c", "alice", date(2016, 12, 31)))
    h.do(CallFee("c", "carol", 2015, date(2015, 3, 1)))
    h.do(ResignMember("c", "carol", date(2015, 12, 31)))
    h.do(donation("D2", "dave", date(2021, 5, 1)))
    h.do(
        SignAdvertisingContract(
            "c",
            "AD1",
            "erin",
            "Erin SARL",
            "other",
            "Bannière",
            D("100"),
            date(2019, 1, 1),
            date(2019, 1, 31),
            date(2018, 12, 15),
        )
    )
    h.do(InvoiceAdvertising("c", "AD1", "2019-01", date(2019, 1, 1)))
    h.do(PayAdvertisingInvoice("c", "AD1", "2019-01", D("100"), date(2019, 1, 20)))
    return h


# ---------------------------------------------------------------- forgetting


def test_a_member_who_left_years_ago_is_forgotten_and_the_state_equals_a_replay_read_after_the_key_is_gone(h):
    (event,) = h.do(forget("alice"))
    assert isinstance(event, PersonForgotten)
    assert (event.person_id, event.roles, event.reason, event.actor) == (
        "alice",
        ["member", "donor"],
        "asked to be forgotten by letter of 2024-02-20",
        "admin",
    )
    assert h.coop.members["alice"].name == pseudonym("alice")
    receipt = donations_state(h.coop).gifts["D1"].receipt
    assert (receipt.donor_id, receipt.donor_name, receipt.donor_address) == ("alice", pseudonym("alice"), None)
    assert h.coop.identities.forgotten == {"alice": FORGET_ON}
    assert h.coop.members["bob"].name == "Member bob"  # nobody else

    # What the store gives back once alice's key is deleted: her sealed fields read as erased.
    replayed = h.replay(lambda e: e.forgotten_copy("alice") if any(p == "alice" for _, p in e.persons()) else e)
    assert dump(replayed) == dump(h.coop)
    # The events themselves never change.
    assert next(e for e in h.events if getattr(e, "donation_id", None) == "D1").donor_name == "Donor alice"


def test_a_forgotten_backer_and_employee_and_advertiser_read_as_erased_everywhere_the_state_holds_them():
    h = History()
    h.do(
        RecordCrowdfundingPayout(
            "c",
            "P1",
            "HelloAsso",
            "Atelier",
            D("100"),
            D("0"),
            [Backer("fay", "Fay", D("30")), Backer("gus", "Gus", D("20"))],
            date(2015, 6, 1),
        )
    )
    h.do(SetEthicalMinimumRate("c", "12.00", date(2015, 1, 1)))
    h.do(EngageSharedEmployee("c", "zoe", "Zoé Martin", "14.00", date(2015, 2, 1)))
    h.do(
        SignAdvertisingContract(
            "c", "AD1", "ads", "Ads SA", "other", "Bannière", D("10"), date(2015, 1, 1), date(2015, 1, 31), date(2015, 1, 1)
        )
    )
    for person in ("fay", "zoe", "ads"):
        h.do(forget(person))
    backers = donations_state(h.coop).gifts["P1"].receipt.backers
    assert [(b["donor_name"], b["donor_address"]) for b in backers] == [(pseudonym("fay"), None), ("Gus", None)]
    assert h.coop.shared_hours.employees["zoe"].name == pseudonym("zoe")
    assert h.coop.advertising.contracts["AD1"].advertiser_name == pseudonym("ads")
    gone = {"fay", "zoe", "ads"}

    def read(event: CoopEvent) -> CoopEvent:
        for person in gone & {p for _, p in event.persons()}:
            event = event.forgotten_copy(person)
        return event

    assert dump(h.replay(read)) == dump(h.coop)


# ---------------------------------------------------------------- refusals


def test_only_an_admin_forgets_and_the_fact_is_restricted():
    assert handler_of(ForgetPerson).roles == {"admin"}
    assert fact_of("PersonForgotten") == Fact("person.forgotten", "restricted")


def _future(_h: History) -> ForgetPerson:
    return forget("alice", date.today() + timedelta(days=2))  # ahead of UTC's today wherever the tests run


REFUSALS = {
    "known_person": (lambda h: forget("nobody"), NotFound, "person_id"),
    "not_a_member": (lambda h: forget("bob"), InvalidCommand, "person_id"),
    "no_open_balance": (lambda h: forget("carol"), InvalidCommand, "person_id"),
    "gift_receipt_retention": (lambda h: forget("dave"), InvalidCommand, "effective_date"),
    "invoice_retention": (lambda h: forget("erin"), InvalidCommand, "effective_date"),
    "not_in_future": (_future, InvalidCommand, "effective_date"),
    "required": (lambda h: forget("alice", reason="  "), InvalidCommand, "reason"),
    "not_before_founding": (lambda h: forget("alice", date(2014, 12, 31)), InvalidCommand, "effective_date"),
}


@pytest.mark.parametrize("rule", sorted(REFUSALS))
def test_each_hold_refuses_naming_the_field_and_rule_and_records_nothing(h, rule):
    command, kind, field = REFUSALS[rule]
    before = copy.deepcopy(h.coop.identities)
    error = h.refused(command(h))  # checks that neither version nor journal moved
    assert (type(error), error.field, error.rule) == (kind, field, rule), error.message
    assert h.coop.identities == before


def test_the_refusals_say_what_holds_the_identity(h):
    assert "100.00 EUR is owed by carol on account 411" in h.refused(forget("carol")).message
    assert "31 December 2027" in h.refused(forget("dave")).message
    assert "31 December 2029" in h.refused(forget("erin")).message
    assert "resign" in h.refused(forget("bob")).message


def test_the_holds_end_on_the_first_of_january_after_their_years(h):
    error = h.refused(forget("alice", date(2022, 12, 31)))  # the gift of 2016 is held through 2022
    assert error.rule == "gift_receipt_retention"
    h.do(forget("alice", date(2023, 1, 1)))


def test_a_member_is_forgotten_only_after_leaving():
    h = History()
    h.do(admit("c", "bob", "users", date(2015, 2, 1)))
    assert h.refused(forget("bob")).rule == "not_a_member"
    h.do(ResignMember("c", "bob", date(2020, 1, 1)))
    assert h.refused(forget("bob", date(2019, 12, 31))).rule == "not_a_member"  # still a member that day
    h.do(forget("bob", date(2020, 1, 1)))


def test_a_person_is_forgotten_once(h):
    h.do(forget("alice"))
    error = h.refused(forget("alice"))
    assert (type(error), error.field, error.rule) == (Conflict, "person_id", "not_forgotten")


def test_a_person_recorded_in_clear_before_identities_were_sealed_is_not_forgotten(h):
    def in_clear(event: CoopEvent) -> CoopEvent:
        """As the store decodes an event whose identity fields were stored in clear."""
        if event.PERSONAL and any(p == "alice" for _, p in event.persons()):
            event = copy.copy(event)
            object.__setattr__(event, "identity_in_clear", True)
        return event

    h.coop = h.replay(in_clear)
    assert h.coop.identities.in_clear == {"alice"}
    error = h.refused(forget("alice"))
    assert (type(error), error.field, error.rule) == (InvalidCommand, "person_id", "identity_sealed")


# ---------------------------------------------------------------- a forgotten id is never reused


def _reuses(person: str) -> dict[str, Any]:
    return {
        "a donation": RecordDonation("c", "D9", person, "Someone", "individual", D("10"), FORGET_ON),
        "a backer": RecordCrowdfundingPayout(
            "c", "P9", "HelloAsso", "Atelier", D("10"), D("0"), [Backer(person, "Someone", D("10"))], FORGET_ON
        ),
        "a contract": SignAdvertisingContract(
            "c", "AD9", person, "Someone", "other", "Bannière", D("10"), date(2024, 4, 1), date(2024, 4, 30), FORGET_ON
        ),
        "an employee": EngageSharedEmployee("c", person, "Someone", "14.00", FORGET_ON),
    }


@pytest.mark.parametrize("what", sorted(_reuses("x")))
def test_a_forgotten_id_is_never_given_an_identity_again(h, what):
    h.do(SetEthicalMinimumRate("c", "12.00", date(2015, 1, 1)))
    h.do(forget("alice"))
    error = h.refused(_reuses("alice")[what])
    assert (type(error), error.rule) == (InvalidCommand, "forgotten_person")
    assert error.field == ("backers[0].donor_id" if what == "a backer" else error.field)
    assert error.field.endswith(("donor_id", "advertiser_id", "employee_id"))
