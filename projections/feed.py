"""The change feed: every domain event becomes one public *fact*, stored per cooperative.

One event, one fact, identified by the event's log position: the position is the feed's cursor
(SSE id, `?after=`, a webhook endpoint's cursor). FACT_KINDS below is the stable, documented list
of fact kinds (docs/webhooks.md); FEED_ACCESS decides what each role may follow. Both are
enforced here, in `view()`, so the stream, the JSON page and the webhooks cannot disagree.

Why a projection table (`feed_facts`, keyed by (coop, position)) rather than reading the event
log directly: the log has no cooperative column, so following one cooperative would decode every
event of every cooperative since the cursor; with the table, a page is one index range scan on
(coop, position), kind and account filters run in SQL, and the JSON is rendered once, not per
follower. Rows commit with the projection's position in one transaction and batches commit in
log order, so a reader always sees a gap-free prefix of the log: nothing appears behind a cursor
it has passed. The cost is the projection runner's lag (milliseconds: it LISTENs on PostgreSQL).
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import orjson

from domain.events import CoopEvent, FinancialEvent
from ledger.db import Database, Tx
from projections.base import Projection

MAX_PAGE = 1000

# ---------------------------------------------------------------- the kinds of facts

# Event name -> (fact kind, group). Kinds are "<thing>.<past tense>", stable: a renamed event keeps
# its kind. Every event that carries a journal entry is in group "entries". A test checks that
# every event class is listed; an event missing here still becomes a fact (kind "event.<Name>",
# group "restricted": admins and auditors only) rather than vanishing from the feed.
FACT_KINDS: dict[str, tuple[str, str]] = {
    "CooperativeFounded": ("cooperative.founded", "cooperative"),
    "AccountAdded": ("account.added", "cooperative"),
    "MemberAdmitted": ("member.admitted", "membership"),
    "MemberTransferred": ("member.transferred", "membership"),
    "MemberResigned": ("member.resigned", "membership"),
    "MemberExcluded": ("member.excluded", "membership"),
    "SharesSubscribed": ("shares.subscribed", "entries"),
    "SharesRedeemed": ("shares.redeemed", "entries"),
    "FeeCalled": ("fee.called", "entries"),
    "FeePaid": ("fee.paid", "entries"),
    "EntryRecorded": ("entry.recorded", "entries"),
    "EntryReversed": ("entry.reversed", "entries"),
    "StatutesAmended": ("statutes.amended", "governance"),
    "VotingPolicySet": ("voting_policy.set", "governance"),
    "ResolutionRecorded": ("resolution.recorded", "governance"),
    "VoteCast": ("vote.cast", "governance"),
    "SubscriptionPlanDefined": ("subscription_plan.defined", "activities"),
    "SubscriptionStarted": ("subscription.started", "activities"),
    "SubscriptionCancelled": ("subscription.cancelled", "activities"),
    "SubscriptionBilled": ("subscription.billed", "entries"),
    "SubscriptionPaid": ("subscription.paid", "entries"),
    "CertificationTermsSet": ("certification_terms.set", "activities"),
    "CertificationGranted": ("certification.granted", "entries"),
    "CertificationRenewed": ("certification.renewed", "entries"),
    "CertificationRevoked": ("certification.revoked", "activities"),
    "CertificationFeePaid": ("certification_fee.paid", "entries"),
    "CourseDeclared": ("course.declared", "activities"),
    "CourseContributionCollected": ("course_contribution.collected", "entries"),
    "AuthorPaid": ("author.paid", "entries"),
    "ContributionPledged": ("contribution.pledged", "activities"),
    "ContributionResultDeclared": ("contribution_result.declared", "activities"),
    "ContributionResultCancelled": ("contribution_result.cancelled", "activities"),
    "ContributionPaid": ("contribution.paid", "entries"),
    "CallOpened": ("call.opened", "activities"),
    "GrantApplicationRecorded": ("grant_application.recorded", "activities"),
    "GrantAwarded": ("grant.awarded", "entries"),
    "GrantPaid": ("grant.paid", "entries"),
    "GrantWithdrawn": ("grant.withdrawn", "entries"),
    "CallClosed": ("call.closed", "activities"),
    "SubsidyGranted": ("subsidy.granted", "entries"),
    "SubsidyReceived": ("subsidy.received", "entries"),
    "SubsidyUsed": ("subsidy.used", "entries"),
    "SensorRewardTermsSet": ("sensor_reward_terms.set", "activities"),
    "SensorRegistered": ("sensor.registered", "activities"),
    "SensorRetired": ("sensor.retired", "activities"),
    "ReadingsAccepted": ("readings.accepted", "entries"),
    "CreditsRedeemedForMoney": ("credits.redeemed_for_money", "entries"),
    "CreditsRedeemedForService": ("credits.redeemed_for_service", "entries"),
    "EthicalMinimumRateSet": ("ethical_minimum_rate.set", "activities"),
    "SharedEmployeeEngaged": ("shared_employee.engaged", "activities"),
    "SharedHoursLogged": ("shared_hours.logged", "entries"),
    "SharedHoursRebilled": ("shared_hours.rebilled", "entries"),
    "FiscalYearClosed": ("fiscal_year.closed", "entries"),
    "DonationReceived": ("donation.received", "entries"),
    "CrowdfundingPayoutReceived": ("crowdfunding_payout.received", "entries"),
    "EarmarkedDonationUsed": ("earmarked_donation.used", "entries"),
    "AdvertisingContractSigned": ("advertising_contract.signed", "activities"),
    "AdvertisingContractEnded": ("advertising_contract.ended", "activities"),
    "AdvertisingInvoiced": ("advertising.invoiced", "entries"),
    "AdvertisingInvoicePaid": ("advertising_invoice.paid", "entries"),
    "ObservatoryVisibilitySet": ("observatory_visibility.set", "cooperative"),
    "CollegeRulesSet": ("college_rules.set", "governance"),
    "FederationRecorded": ("federation.recorded", "cooperative"),
    "FederationOpeningCarried": ("federation_opening.carried", "entries"),
    "BooksSealedByFederation": ("books.sealed_by_federation", "cooperative"),
    "FeeCallCarried": ("fee_call.carried", "membership"),
    "EarmarkedGiftCarried": ("earmarked_gift.carried", "activities"),
    "AdvertisingContractCarried": ("advertising_contract.carried", "activities"),
    "SharesCarried": ("shares.carried", "membership"),
    "CertificationCarried": ("certification.carried", "activities"),
    "SubscriptionPlanCarried": ("subscription_plan.carried", "activities"),
    "SubscriptionCarried": ("subscription.carried", "activities"),
    "SensorRewardTermsCarried": ("sensor_reward_terms.carried", "activities"),
    "SensorCarried": ("sensor.carried", "activities"),
    "SensorCreditsCarried": ("sensor_credits.carried", "activities"),
    "EthicalMinimumRateCarried": ("ethical_minimum_rate.carried", "activities"),
    "SharedEmployeeCarried": ("shared_employee.carried", "activities"),
    "CooperationFundCarried": ("cooperation_fund.carried", "activities"),
    "SubsidyCarried": ("subsidy.carried", "activities"),
    "CallCarried": ("call.carried", "activities"),
    "GrantApplicationCarried": ("grant_application.carried", "activities"),
    "AuthorBalanceCarried": ("author_balance.carried", "activities"),
    "ContributionPledgeCarried": ("contribution_pledge.carried", "activities"),
}
KINDS: dict[str, str] = {kind: group for kind, group in FACT_KINDS.values()}  # kind -> group
GROUPS = ("cooperative", "entries", "membership", "governance", "activities", "restricted")

# Fields that may name or describe a person: names, addresses, free-text reasons, applicants and
# projects, participants; plus the entry's label (labels carry members' names) and the recording
# actor. Any field named `*_name` or `*_address` counts too, so a new event's donor_name is covered.
PERSONAL_FIELDS = frozenset({"name", "reason", "applicant", "project", "participant_ref"})


def is_personal(field: str) -> bool:
    return field in PERSONAL_FIELDS or field.endswith(("_name", "_address"))


@dataclass(frozen=True)
class Access:
    groups: frozenset[str]
    personal: bool  # names, labels, reasons, actor


_ALL = frozenset(GROUPS)
# THE table of who may follow what. A reader (another tool mirroring balances) follows the entries
# and the chart, never members' personal data; a clerk has no access to the books (api/roles.py).
FEED_ACCESS: dict[str, Access] = {
    "admin": Access(_ALL, personal=True),
    "auditor": Access(_ALL, personal=True),
    "treasurer": Access(_ALL - {"restricted"}, personal=True),
    "board": Access(_ALL - {"restricted"}, personal=True),
    "clerk": Access(frozenset({"cooperative", "membership", "activities"}), personal=True),
    "reader": Access(frozenset({"cooperative", "entries"}), personal=False),
}


# ---------------------------------------------------------------- event -> fact

# The envelope: said once in every fact, never repeated in its `data` (`reason` is data: personal).
_BASE_FIELDS = frozenset({"originator_id", "originator_version", "originator_topic", "originator_id_type", "timestamp",
                          "coop", "effective_date", "actor", "idempotency_key", "journal_number", "label", "postings",
                          "chain_hash"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    """The event's own fields (not the envelope's), in declaration order; computed once per class."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = tuple(n for n, h in hints.items()
                             if n not in _BASE_FIELDS and h is not ClassVar and typing.get_origin(h) is not ClassVar)
    return _FIELDS[cls]


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def fact_from_event(position: int, event: CoopEvent) -> tuple[str, str, dict[str, Any]]:
    """(kind, group, fact) for one event: the full fact, before any role's view."""
    name = type(event).__name__
    kind, group = FACT_KINDS.get(name, (f"event.{name}", "restricted"))
    fact: dict[str, Any] = {
        "position": position, "coop": event.coop, "kind": kind, "event": name,
        "effective_date": event.effective_date.isoformat(), "recorded_at": event.timestamp.isoformat(),
        "actor": event.actor, "idempotency_key": event.idempotency_key,
        "data": {f: _plain(getattr(event, f, None)) for f in _fields(type(event))},
        "entry": None,
    }
    if isinstance(event, FinancialEvent):
        fact["entry"] = {
            "number": event.journal_number, "label": event.label,
            "reverses": getattr(event, "reverses", None), "chain_hash": event.chain_hash,
            "postings": [{"account": a, "party": p or None, "unit": u, "amount": m} for a, p, u, m in event.postings],
        }
    return kind, group, fact


def view(fact: dict[str, Any], role: str) -> dict[str, Any] | None:
    """What `role` may see of a fact: None if nothing, else the fact without the personal fields
    the role may not read. The one place where access to facts is enforced."""
    access = FEED_ACCESS[role]
    if KINDS.get(fact["kind"], "restricted") not in access.groups:
        return None
    if access.personal:
        return fact
    seen = {k: v for k, v in fact.items() if k != "actor"}
    seen["data"] = _impersonal(fact["data"])
    if fact["entry"] is not None:
        seen["entry"] = {k: v for k, v in fact["entry"].items() if k != "label"}
    return seen


def _impersonal(value: Any, depth: int = 0) -> Any:
    """`value` without personal fields at any depth: a payout's backers are a list of dicts with
    names and addresses inside the event's data. Bounded: event data is a few levels deep."""
    assert depth < 16, "event data nested deeper than any event defines"
    if isinstance(value, dict):
        return {k: _impersonal(v, depth + 1) for k, v in value.items() if not is_personal(k)}
    if isinstance(value, list):
        return [_impersonal(v, depth + 1) for v in value]
    return value


class FeedProjection(Projection):
    name = "feed"
    tables = ("feed_facts",)

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        rows = []
        for position, event in batch:
            if not isinstance(event, CoopEvent):
                continue
            kind, group, fact = fact_from_event(position, event)
            accounts = sorted({p["account"] for p in fact["entry"]["postings"]}) if fact["entry"] else []
            # Spaces around every account so `LIKE '% 512 %'` matches whole account numbers only.
            rows.append((event.coop, position, kind, group, f" {' '.join(accounts)} ", orjson.dumps(fact).decode()))
        tx.executemany(
            "INSERT INTO feed_facts (coop, position, kind, fact_group, accounts, fact_json) VALUES (?, ?, ?, ?, ?, ?)", rows
        )


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class FeedFilter:
    """Which facts a follower wants: kinds (None = every kind its role may follow) and accounts
    (None = any; else facts whose entry touches one of them)."""

    role: str
    kinds: tuple[str, ...] | None = None
    accounts: tuple[str, ...] | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.kinds is not None:
            clauses.append(f"kind IN ({', '.join('?' for _ in self.kinds)})")
            params += self.kinds
        groups = sorted(FEED_ACCESS[self.role].groups)
        clauses.append(f"fact_group IN ({', '.join('?' for _ in groups)})")
        params += groups
        if self.accounts is not None:
            clauses.append("(" + " OR ".join("accounts LIKE ?" for _ in self.accounts) + ")")
            params += [f"% {a} %" for a in self.accounts]
        return " AND ".join(clauses), params


@dataclass(frozen=True)
class FeedPage:
    facts: list[dict[str, Any]]  # as the role sees them, in position order
    next_after: int  # give it back as `after`: every matching fact up to here has been returned
    full: bool  # the page hit its limit: more may follow at once


def feed_position(db: Database) -> int:
    """How far the feed is projected (log position)."""
    with db.read() as tx:
        rows = tx.execute("SELECT position FROM projection_positions WHERE projection = ?", ("feed",))
    return int(rows[0][0]) if rows else 0


def read_page(db: Database, coop: str, flt: FeedFilter, *, after: int = 0, limit: int = 100) -> FeedPage:
    """Facts of `coop` after position `after`, as `flt.role` may see them, at most `limit`."""
    limit = max(1, min(limit, MAX_PAGE))
    where, params = flt.where()
    with db.read() as tx:  # one snapshot: the projected position and the rows agree
        head = tx.execute("SELECT position FROM projection_positions WHERE projection = ?", ("feed",))
        rows = tx.execute(
            f"SELECT position, fact_json FROM feed_facts WHERE coop = ? AND position > ? AND {where}"  # noqa: S608
            " ORDER BY position LIMIT ?",
            [coop, after, *params, limit],
        )
    facts = [f for f in (view(orjson.loads(text), flt.role) for _pos, text in rows) if f is not None]
    full = len(rows) == limit
    # A short page scanned everything projected so far: the cursor may jump to the projected
    # position, so a filtered follower does not rescan facts it does not want.
    next_after = int(rows[-1][0]) if full else max(after, int(head[0][0]) if head else 0, *(int(r[0]) for r in rows))
    return FeedPage(facts, next_after, full)
