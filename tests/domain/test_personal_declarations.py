"""Every field of an event that may identify a person is declared personal (sealed, erasable), or
said here not to be one, with the reason (domain/personal.py, docs/decisions/0013-forgetting-a-person.md).

A field looks like an identity by its name: `name`, `*_name`, `*_address`, `applicant`, `email`,
`iban`, `bic`, as a field of the event or as a key of the dicts of one of its list fields (the keys are
read from the comment beside the field, which every such field carries: `# [{"donor_id", ...}]`).
A new event with such a field fails here until it says which it is.
"""

from __future__ import annotations

import inspect
import re
import typing

from domain.events import EVENT_CLASSES
from domain.family import families
from domain.personal import personal_of

families()  # every domain module loaded: every event class known

LOOKS_PERSONAL = re.compile(r"^(name|.+_name|.+_address|address|applicant|email|.+_email|iban|.+_iban|bic|.+_bic)$")

# Fields that look like an identity but name no person ("Event.field" or "Event.list_field.key").
NOT_PERSONS = {
    "CooperativeFounded.name": "the cooperative's own name, public",
    "CooperativeFounded.colleges.name": "a voting college's name",
    "StatutesAmended.colleges.name": "a voting college's name",
    "FederationOpeningCarried.founder_name": "a founding cooperative's name",
    "FederationRecorded.founders.name": "a founding cooperative's name",
    "SubscriptionPlanDefined.name": "a subscription plan's name",
    "SubscriptionPlanCarried.name": "a subscription plan's name",
    "CreditorIdentifierSet.creditor_name": "the cooperative's own name as SEPA creditor, public",
    "CreditorIdentifierSet.creditor_iban": "the cooperative's own account, printed on its invoices",
    "CreditorIdentifierSet.creditor_bic": "the cooperative's bank",
    "BankAccountOpened.iban": "the cooperative's own bank account",
    "BankAccountOpened.bic": "the cooperative's own bank",
    "ReceiptEligibilityDeclared.address": "the cooperative's own address, printed on its tax receipts",
}


def _fields(cls: type) -> dict[str, typing.Any]:
    return {n: t for n, t in typing.get_type_hints(cls).items() if typing.get_origin(t) is not typing.ClassVar}


# The keys of list-of-dicts fields that carry no comment saying them (read from their deciders).
KEYS_WITHOUT_COMMENT = {
    "StatutesAmended.colleges": ["code", "name", "weight"],  # as CooperativeFounded's
    "CollegeRulesSet.fee_schedule": ["min_headcount", "max_headcount", "amount_cents"],  # as CooperativeFounded's
}


def _dict_keys(cls: type, field: str) -> list[str]:
    """The keys a list-of-dicts field's dicts have, from the comment beside its annotation in the
    class that declares it (and the comment lines just above or below it), else KEYS_WITHOUT_COMMENT."""
    for klass in cls.__mro__:
        if field in klass.__dict__.get("__annotations__", {}):
            lines = inspect.getsource(klass).splitlines()
            at = next(i for i, line in enumerate(lines) if re.match(rf"\s*{field}\s*:", line))
            comment = [lines[at].partition("#")[2]]
            for step in (-1, 1):
                i = at + step
                while 0 <= i < len(lines) and lines[i].strip().startswith("#"):
                    comment.append(lines[i])
                    i += step
            found = re.findall(r'"([a-z_]+)"', " ".join(comment))
            return found or KEYS_WITHOUT_COMMENT.get(f"{cls.__name__}.{field}", [])
    return []


def _looks_personal(cls: type) -> list[str]:
    found = []
    for field, annotation in _fields(cls).items():
        if LOOKS_PERSONAL.match(field):
            found.append(field)
        if "list[dict" in str(annotation):
            found.extend(f"{field}.{key}" for key in _dict_keys(cls, field) if LOOKS_PERSONAL.match(key))
    return found


def _declared(cls: type) -> set[str]:
    return {f"{p.within}.{name}" if p.within else name for p in personal_of(cls) for name in p.fields}


def test_every_field_that_looks_like_an_identity_is_declared_or_said_not_to_be_one():
    undeclared = [
        f"{name}.{field}"
        for name, cls in sorted(EVENT_CLASSES.items())
        for field in _looks_personal(cls)
        if field not in _declared(cls) and f"{name}.{field}" not in NOT_PERSONS
    ]
    assert undeclared == [], "declare them in PERSONAL (domain/personal.py) or in NOT_PERSONS with the reason"


def test_the_list_field_comments_are_read():
    """The walk above reads the dicts' keys from the comments: it must find the ones we know."""
    from domain.donations_state import CrowdfundingPayoutReceived

    assert "donor_name" in _dict_keys(CrowdfundingPayoutReceived, "backers")
    assert "name" in _dict_keys(EVENT_CLASSES["FederationRecorded"], "founders")


def test_the_keys_of_every_list_of_dicts_field_are_known():
    unknown = [
        f"{name}.{field}"
        for name, cls in sorted(EVENT_CLASSES.items())
        for field, annotation in _fields(cls).items()
        if "list[dict" in str(annotation) and not _dict_keys(cls, field)
    ]
    assert unknown == [], 'say the dicts\' keys in a comment beside the field: # [{"key", ...}]'


def test_each_declaration_names_fields_the_event_has():
    for name, cls in sorted(EVENT_CLASSES.items()):
        fields = _fields(cls)
        for personal in personal_of(cls):
            if personal.within is None:
                assert {personal.person, *personal.fields} <= set(fields), (name, personal)
            else:
                assert "list[dict" in str(fields.get(personal.within)), (name, personal)
                keys = set(_dict_keys(cls, personal.within))
                assert {personal.person, *personal.fields} <= keys, (name, personal, keys)


def test_the_allow_list_names_fields_that_exist_and_are_not_declared():
    for path in NOT_PERSONS:
        event, _, field = path.partition(".")
        cls = EVENT_CLASSES[event]
        assert field in _looks_personal(cls), path
        assert field not in _declared(cls), path


def test_the_persons_known_events_declare():
    declared = {name for name, cls in EVENT_CLASSES.items() if personal_of(cls)}
    assert declared == {
        "MemberAdmitted",
        "MemberExcluded",
        "DonationReceived",
        "CrowdfundingPayoutReceived",
        "EarmarkedGiftCarried",
        "TaxReceiptIssued",
        "AdvertisingContractSigned",
        "AdvertisingContractCarried",
        "SharedEmployeeEngaged",
        "SharedEmployeeCarried",
        "GrantApplicationRecorded",
        "GrantApplicationCarried",
        "MandateRecorded",
        "BankStatementImported",
    }
