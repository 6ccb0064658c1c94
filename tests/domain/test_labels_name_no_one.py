"""Entry labels name no one: they are stored in clear in the events and hashed into the chain, so
they can never be erased (docs/decisions/0013-forgetting-a-person.md). A label names a member,
donor, advertiser, employee, author or grant applicant by the id the cooperative gave them.

The demo's cooperatives are driven in memory through the deciders (no store): a year and a
half of fees, shares, subscriptions, certifications, success contributions, gifts, crowdfunding,
advertising, shared hours, the platform levy, grants and sensor credits. The federation they
found needs a store, and its opening entries name the founding cooperatives, not people.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.cooperative import Cooperative, FoundCooperative, found_cooperative
from domain.corrections import ReverseEntry, reverse_entry
from domain.events import FinancialEvent, Meta
from domain.grants_state import GrantApplicationRecorded, GrantAwarded, GrantPaid, GrantWithdrawn
from domain.personal import PERSON_ID_FIELDS
from domain.sensors_state import ReadingsAccepted
from domain.shared_hours_state import SharedHoursLogged
from ledger.commands import parse_command
from ledger.demo import demo_commands
from ledger.handlers import HANDLERS

# Events whose "name" is not a person's: the cooperative's own name, a subscription plan's.
NOT_A_PERSON = {"CooperativeFounded", "SubscriptionPlanDefined", "CreditorIdentifierSet"}  # the cooperative's own names

# Every kind of entry whose label must name a person by id; the demo records each at least once.
NAMING_A_PERSON = {
    "FeeCalled",
    "FeePaid",
    "SharesSubscribed",
    "SharesRedeemed",
    "SubscriptionBilled",
    "SubscriptionPaid",
    "CertificationGranted",
    "CertificationRenewed",
    "CertificationFeePaid",
    "ContributionPaid",
    "DonationReceived",
    "AdvertisingInvoiced",
    "AdvertisingInvoicePaid",
    "SharedHoursLogged",
    "SharedHoursRebilled",
    "CourseContributionCollected",
    "AuthorPaid",
    "GrantAwarded",
    "GrantPaid",
    "GrantWithdrawn",
    "CreditsRedeemedForMoney",
    "CreditsRedeemedForService",
}


def _is_identity(field: str) -> bool:
    return field in ("name", "applicant") or field.endswith(("_name", "_address"))


def _identities(event: Any) -> dict[str, str]:
    """{name or address: the field it was given in} for every identity value the event holds,
    in its own fields and in the dicts of its list fields (a payout's backers)."""
    found: dict[str, str] = {}
    if type(event).__name__ in NOT_A_PERSON:
        return found
    for field, value in vars(event).items():
        holders = [x for x in value if isinstance(x, dict)] if isinstance(value, list) else [{field: value}]
        for holder in holders:
            found.update({v: k for k, v in holder.items() if _is_identity(k) and isinstance(v, str) and v})
    return found


@pytest.fixture(scope="module")
def demo() -> tuple[list[Any], list[FinancialEvent]]:
    """Every event the demo's cooperatives record, and their entries."""
    meta = Meta(actor="demo", idempotency_key="k")
    coops: dict[str, Cooperative] = {}
    journals: dict[str, list[FinancialEvent]] = {}
    events: list[Any] = []
    for data in demo_commands():
        command, _key, _actor = parse_command(data)
        if isinstance(command, FoundCooperative):
            coops[command.coop], journals[command.coop] = found_cooperative(None, command, meta), []
        elif getattr(command, "coop", None) not in coops:
            continue  # the federation: founded from the stored cooperatives
        elif isinstance(command, ReverseEntry):
            reverse_entry(coops[command.coop], command, meta, journals[command.coop][command.entry_number - 1])
        else:
            HANDLERS[type(command)](coops[command.coop], command, meta)
        recorded = list(coops[command.coop].collect_events())
        journals[command.coop].extend(e for e in recorded if isinstance(e, FinancialEvent))
        events.extend(recorded)
    assert {"cluster-numerique-sud", "mednum-scic"} <= set(coops)
    return events, [e for journal in journals.values() for e in journal]


def test_the_demo_gives_names_and_addresses_of_every_kind_of_person(demo):
    events, _ = demo
    given = {field for e in events for field in _identities(e).values()}
    assert given == {"name", "applicant", "donor_name", "donor_address", "advertiser_name"}
    kinds = {type(e).__name__ for e in events if _identities(e)}
    assert {"MemberAdmitted", "SharedEmployeeEngaged", "DonationReceived", "CrowdfundingPayoutReceived"} <= kinds
    assert {"AdvertisingContractSigned", "GrantApplicationRecorded"} <= kinds


def test_no_label_holds_a_name_or_an_address(demo):
    events, entries = demo
    identities = {value for e in events for value in _identities(e)}
    members = {e.member_id: e.name for e in events if type(e).__name__ == "MemberAdmitted"}
    assert "Camille Vidal" in identities and "4 rue du Port, 34200 Sète" in identities
    leaks = []
    for entry in entries:
        allowed = set()
        if isinstance(entry, SharedHoursLogged):
            allowed.add(members[entry.structure_id])  # a host structure: an organisation, checked by the decider
        leaks += [(entry.journal_number, entry.label) for v in identities - allowed if v in entry.label]
    assert leaks == []


def _named_id(entry: FinancialEvent, applicants: dict[str, str]) -> str | None:
    """The id of the person an entry is about, as its label must show it."""
    if isinstance(entry, (GrantAwarded, GrantPaid, GrantWithdrawn)):
        return applicants[entry.application_id]
    if isinstance(entry, ReadingsAccepted):
        return entry.sensor_id  # readings name the sensor; its host is the entry's party
    return next((getattr(entry, f) for f in PERSON_ID_FIELDS if isinstance(getattr(entry, f, None), str)), None)


def test_every_label_about_a_person_shows_their_id(demo):
    events, entries = demo
    applicants = {e.application_id: e.member_id or e.application_id for e in events if isinstance(e, GrantApplicationRecorded)}
    assert None in {e.member_id for e in events if isinstance(e, GrantApplicationRecorded)}  # an applicant from outside
    checked, missing = set(), []
    for entry in entries:
        named = _named_id(entry, applicants)
        if named is None:
            continue
        checked.add(type(entry).__name__)
        if named not in entry.label:
            missing.append((type(entry).__name__, named, entry.label))
    assert missing == []
    assert checked >= NAMING_A_PERSON, sorted(NAMING_A_PERSON - checked)


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("FeeCalled", "Cotisation 2025 – MED-01"),
        ("SharesSubscribed", "Souscription de 20 part(s) sociale(s) – SAL-01"),
        ("DonationReceived", "Don – DO-001"),
        ("AdvertisingInvoicePaid", "Règlement publicité 2026-03 – bpifrance"),
        ("SharedHoursRebilled", "Refacturation au coût de CN-01 – 2025-04"),
        ("AuthorPaid", "Reversement de la quote-part auteur – SAL-01"),
    ],
)
def test_labels_read_as_the_rules_show_them(demo, kind, label):
    _, entries = demo
    assert label in {e.label for e in entries if type(e).__name__ == kind}
