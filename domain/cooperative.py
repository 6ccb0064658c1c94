"""The Cooperative aggregate: the one consistency boundary for everything a cooperative records.

Why one aggregate per cooperative (docs/decisions/0001-one-aggregate-per-cooperative.md):
gapless journal numbering, the hash chain and rules that cross families (the fund never goes
negative, an envelope is never exceeded) need one ordered history per cooperative.
Optimistic concurrency on its version keeps concurrent writers from losing updates.

The family modules (membership, fees, corrections...) define their commands, events and
deciders; the aggregate holds their state and the journal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from domain.accounts import FEC_DIGITS, Account, Chart, LegalForm, check_account_number, default_chart, fec_account_number
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import CoopEvent, FinancialEvent, Meta
from domain.family import Fact, Family, Handler, families, new_states, register
from domain.journal import Journal
from domain.money import EurosIn, Unit, to_minor
from domain.personal import pseudonym
from domain.roles import FINANCIAL, STATUTES
from domain.rules import a_date, identifier, text, whole_number
from domain.statutes import check_siren, fee_schedule_of, validate_colleges, validate_voting_policy

if TYPE_CHECKING:
    from domain.fees import FeeCall
    from domain.membership import Member

COOP_NAMESPACE = uuid.UUID("5b1f4f0e-8a55-4d55-9a55-6c6f6f706c64")


def coop_id(slug: str) -> uuid.UUID:
    return uuid.uuid5(COOP_NAMESPACE, f"cooperative:{slug}")


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class CollegeSpec:
    """A voting college in the statutes. `weight` is a percentage as an exact fraction
    ("40", "12.5", "100/3"); left out, every college of the cooperative gets an equal share."""

    code: str
    name: str
    weight: str | None = None


@dataclass(frozen=True)
class FeeBracket:
    """Fee for members whose headcount is in [min_headcount, max_headcount] (None: no upper bound)."""

    min_headcount: int
    max_headcount: int | None
    amount: EurosIn  # the fee schedule keeps it in cents, as amount_cents (domain/statutes.py)


@dataclass(frozen=True)
class FoundCooperative:
    coop: str
    name: str
    legal_form: str
    founded_on: date
    colleges: list[CollegeSpec]
    fee_schedule: list[FeeBracket]
    fiscal_year_start_month: int = 1
    siren: str | None = None
    share_value: EurosIn | None = None  # euros per capital share; required when the form has capital
    # Voting policy in the statutes (changed later by SetVotingPolicy, see domain/governance.py).
    require_fee_paid: bool = True
    min_shares: int = 0
    empty_college_policy: str = "redistribute"


@dataclass(frozen=True)
class AddAccount:
    coop: str
    number: str
    label_fr: str
    label_en: str
    effective_date: date


# ---------------------------------------------------------------- events


class CooperativeFounded(CoopEvent, Aggregate.Created):
    name: str
    legal_form: str
    siren: str | None
    fiscal_year_start_month: int
    colleges: list[dict[str, Any]]  # [{"code", "name", "weight": "40" | "100/3"}]
    weighted: bool
    fee_schedule: list[dict[str, Any]]  # [{"min_headcount", "max_headcount", "amount_cents"}]
    share_value_cents: int | None
    voting_policy: dict[str, Any]  # {"require_fee_paid", "min_shares", "empty_college_policy"}

    def apply(self, coop: Cooperative) -> None:
        coop.slug = self.coop
        coop.name = self.name
        coop.legal_form = LegalForm(self.legal_form)
        coop.siren = self.siren
        coop.founded_on = self.effective_date
        coop.fiscal_year_start_month = self.fiscal_year_start_month
        coop.statutes = [
            {"effective_date": self.effective_date, "colleges": [dict(c) for c in self.colleges], "weighted": self.weighted}
        ]
        coop.policies = [{"effective_date": self.effective_date, **self.voting_policy}]
        coop.fee_schedule = [dict(b) for b in self.fee_schedule]
        coop.share_value_cents = self.share_value_cents
        coop.chart = default_chart(coop.legal_form)


class AccountAdded(CoopEvent):
    number: str
    label_fr: str
    label_en: str

    def apply(self, coop: Cooperative) -> None:
        coop.chart = coop.chart.with_account(Account(self.number, self.label_fr, self.label_en))


# ---------------------------------------------------------------- aggregate


class Cooperative(Aggregate):
    TOPIC = "coopledger:Cooperative"

    # eventsourcing looks for these two names on the aggregate; our classes live in events.py
    # and below so their stored names stay "coopledger:<ClassName>".
    Event = CoopEvent
    Created = CooperativeFounded

    def __init__(self) -> None:
        # Filled by CooperativeFounded.apply; listed here so a reader sees the whole state.
        self.slug: str = ""
        self.name: str = ""
        self.legal_form: LegalForm = LegalForm.ASSOCIATION
        self.siren: str | None = None
        self.founded_on: date = date.min
        self.fiscal_year_start_month: int = 1
        # Dated versions, oldest first: statutes (colleges and weights) and the voting policy.
        self.statutes: list[dict[str, Any]] = []
        self.policies: list[dict[str, Any]] = []
        self.resolutions: dict[str, Any] = {}
        self.fee_schedule: list[dict[str, Any]] = []
        # college -> dated versions of its own rules (domain/governance.py SetCollegeRules)
        self.college_rules: dict[str, list[dict[str, Any]]] = {}
        # Set when the books were sealed by a federation (domain/federation.py): nothing more is recorded.
        self.sealed_by_federation: dict[str, Any] | None = None
        self.federated_from: list[dict[str, Any]] = []  # a federation's founders and their chain heads
        self.share_value_cents: int | None = None
        self.chart: Chart = default_chart(LegalForm.ASSOCIATION)
        self.members: dict[str, Member] = {}
        self.fee_calls: dict[tuple[str, int], FeeCall] = {}
        self.journal = Journal()
        # Each family keeps what its rules need in a state object of its own, named after the family
        # (coop.sensors, coop.grants...): its declaration says how to make one (domain/family.py).
        for name, state in new_states().items():
            assert not hasattr(self, name), f"family {name!r} would hide the aggregate's attribute {name}"
            setattr(self, name, state)

    # -- reading state

    def member(self, member_id: str, field: str = "member_id") -> Member:
        try:
            return self.members[member_id]
        except KeyError:
            raise NotFound(field, "known_member", f"member {member_id!r} is not a member of {self.slug}") from None

    def statutes_on(self, day: date) -> dict[str, Any] | None:
        return _version_on(self.statutes, day)

    def policy_on(self, day: date) -> dict[str, Any] | None:
        return _version_on(self.policies, day)

    def colleges_on(self, day: date) -> dict[str, dict[str, Any]]:
        statutes = self.statutes_on(day)
        return {c["code"]: c for c in statutes["colleges"]} if statutes else {}

    def college_exists_from(self, code: str, day: date) -> bool:
        """True when the college exists on `day` and no later amendment abolishes it."""
        if code not in self.colleges_on(day):
            return False
        return all(code in {c["code"] for c in v["colleges"]} for v in self.statutes if v["effective_date"] > day)

    def fiscal_year_of(self, day: date) -> int:
        """Fiscal years are named by the calendar year they start in."""
        return day.year if day.month >= self.fiscal_year_start_month else day.year - 1

    def check_effective_date(self, day: Any, field: str = "effective_date") -> date:
        day = a_date(day, field)
        if day < self.founded_on:
            raise InvalidCommand(field, "not_before_founding", f"{day} is before {self.slug} was founded ({self.founded_on})")
        self.check_not_sealed(field)
        self.closing.check_open(day, field)
        return day

    def check_not_sealed(self, field: str = "effective_date") -> None:
        """Books sealed by a federation take nothing more, whatever its date: their balances became
        the federation's opening entries (domain/federation.py). They stay readable."""
        seal = self.sealed_by_federation
        if seal is not None:
            raise InvalidCommand(
                field,
                "books_sealed_by_federation",
                f"the books of {self.slug} were sealed on {seal['effective_date']} when it federated into "
                f"{seal['federation']}: record this in {seal['federation']}",
            )

    def forget(self, person_id: str) -> None:
        """Replaces a forgotten person's identity wherever the state holds it (PersonForgotten.apply,
        domain/identities.py): the member's name here, then each family state that offers a
        `forget(person_id)` hook; so the state equals one replayed once the sealed fields read as
        `erased_value` (docs/decisions/0013-forgetting-a-person.md)."""
        member = self.members.get(person_id)
        if member is not None:
            member.name = pseudonym(person_id)  # erased_value("name", ...): a name reads as the pseudonym
        for family in families():
            hook = getattr(getattr(self, family.name, None), "forget", None) if family.state is not None else None
            if hook is not None:
                hook(person_id)

    # -- writing events (called by the deciders once every rule has passed)

    def record(self, event_class: type[CoopEvent], *, effective_date: date, meta: Meta, **fields: Any) -> None:
        self.identities.check_not_forgotten(event_class, fields)  # type: ignore[attr-defined]
        self.check_not_sealed()
        self.closing.check_open(effective_date)  # every event, financial or not, passes here
        self.trigger_event(
            event_class,
            coop=self.slug,
            effective_date=effective_date,
            actor=meta.actor,
            idempotency_key=meta.idempotency_key,
            reason=fields.pop("reason", meta.reason),  # an event's own reason (e.g. a reversal's) wins
            **fields,
        )

    def record_entry(
        self,
        event_class: type[FinancialEvent],
        *,
        effective_date: date,
        meta: Meta,
        label: str,
        postings: list[list[Any]],
        **fields: Any,
    ) -> int:
        """Numbers, chains and records a financial event. Returns its journal number."""
        for account, _party, unit, _amount in postings:
            assert account in self.chart.accounts, f"posting rule used unknown account {account}"
            assert unit in Unit.__members__, f"posting rule used unknown unit {unit}"
        self.identities.check_not_forgotten(event_class, fields)  # type: ignore[attr-defined]
        self.check_not_sealed()
        self.closing.check_open(effective_date)
        recorded_at = event_class.create_timestamp()
        number, chain_hash = self.journal.seal(
            coop=self.slug,
            kind=event_class.__name__,
            effective_date=effective_date,
            recorded_at=recorded_at,
            label=label,
            postings=postings,
            allow_empty=getattr(event_class, "EMPTY_ENTRY_ALLOWED", False),
        )
        self.trigger_event(
            event_class,
            timestamp=recorded_at,
            coop=self.slug,
            effective_date=effective_date,
            actor=meta.actor,
            idempotency_key=meta.idempotency_key,
            reason=fields.pop("reason", meta.reason),
            journal_number=number,
            label=label,
            postings=postings,
            chain_hash=chain_hash,
            **fields,
        )
        return number


def _version_on(versions: list[dict[str, Any]], day: date) -> dict[str, Any] | None:
    """The version in force on `day`: the last one whose effective date is on or before it."""
    found = None
    for version in versions:
        if version["effective_date"] <= day:
            found = version
    return found


# ---------------------------------------------------------------- deciders


def found_cooperative(existing: Cooperative | None, cmd: FoundCooperative, meta: Meta) -> Cooperative:
    slug = identifier(cmd.coop, "coop")
    if existing is not None:
        raise Conflict("coop", "unique_cooperative", f"cooperative {slug!r} already exists")
    name = text(cmd.name, "name")
    try:
        legal_form = LegalForm(cmd.legal_form)
    except ValueError:
        forms = ", ".join(f.value for f in LegalForm)
        raise InvalidCommand("legal_form", "known_legal_form", f"{cmd.legal_form!r} is not one of {forms}") from None
    founded_on = a_date(cmd.founded_on, "founded_on")
    start_month = whole_number(cmd.fiscal_year_start_month, "fiscal_year_start_month", minimum=1, maximum=12)
    siren = check_siren(cmd.siren) if cmd.siren is not None else None
    colleges, weighted = validate_colleges(cmd.colleges, legal_form)
    voting_policy = validate_voting_policy(cmd.require_fee_paid, cmd.min_shares, cmd.empty_college_policy, legal_form)
    schedule = fee_schedule_of(cmd.fee_schedule)
    share_value_cents = None
    if legal_form.has_capital:
        if cmd.share_value is None:
            raise InvalidCommand(
                "share_value", "required", f"a {legal_form.value.upper()} has capital: give the value of one share"
            )
        share_value_cents = to_minor(cmd.share_value, Unit.EUR, "share_value")
    elif cmd.share_value is not None:
        raise InvalidCommand("share_value", "no_capital", "an association has no capital shares")
    return Cooperative._create(
        Cooperative.Created,
        id=coop_id(slug),
        coop=slug,
        name=name,
        legal_form=legal_form.value,
        siren=siren,
        effective_date=founded_on,
        fiscal_year_start_month=start_month,
        colleges=colleges,
        weighted=weighted,
        fee_schedule=schedule,
        share_value_cents=share_value_cents,
        voting_policy=voting_policy,
        actor=meta.actor,
        idempotency_key=meta.idempotency_key,
        reason=meta.reason,
    )


def add_account(coop: Cooperative, cmd: AddAccount, meta: Meta) -> None:
    number = check_account_number(cmd.number, "number")
    if number in coop.chart.accounts:
        raise Conflict("number", "unique_account", f"account {number} is already in the chart")
    clash = coop.chart.padded_alike(number)
    if clash is not None:
        # Otherwise every FEC from the first entry on both would be refused (CompteNum merged).
        raise Conflict(
            "number",
            "distinct_when_padded",
            f"account {number} would be written {fec_account_number(number)} in the FEC, as account {clash} "
            f"already is: the two would merge; choose a number of {FEC_DIGITS} digits or more that no account pads to",
        )
    label_fr = text(cmd.label_fr, "label_fr")
    label_en = text(cmd.label_en, "label_en")
    day = coop.check_effective_date(cmd.effective_date)
    coop.record(AccountAdded, effective_date=day, meta=meta, number=number, label_fr=label_fr, label_en=label_en)


FAMILY = register(
    Family(
        name="cooperative",
        commands={
            FoundCooperative: Handler(None, STATUTES),  # decided by the ledger: see Handler
            AddAccount: Handler(add_account, STATUTES | FINANCIAL),
        },
        events={
            "CooperativeFounded": Fact("cooperative.founded", "cooperative"),
            "AccountAdded": Fact("account.added", "cooperative"),
        },
    )
)
