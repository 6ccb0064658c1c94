"""Federation: a new cooperative founded from several existing ones, without losing their history.

On the federation date D (one command, all or nothing; the ledger saves every aggregate in one
transaction, see ledger/decision.py):
- the new cooperative is founded on D with its statutes: one college per founder by default (code =
  the founder's slug, equal weights), or the colleges the command gives (each founder placed in
  exactly one); a college may keep its own fee schedule and eligibility rules (SetCollegeRules);
- each founder's members on D join the new cooperative in their founder's college (`keep` their ids,
  refused on a clash, or `prefix` them as "<founder>.<id>"); FederationRecorded keeps, per founder,
  which member came from where, and the founder's chain head;
- each founder's balances at the end of D-1 become one opening entry of the new cooperative
  (FederationOpeningCarried, journal "AN"): accounts of classes 1-5 and 8 per account x party x unit;
  the EUR balances of classes 6-7 (the running year's income and expenses, not closed yet) are
  carried as one result line on 120 (surplus) or 129 (deficit), as a closing would;
- each founder's books are sealed (BooksSealedByFederation, dated D, carrying its chain head and
  the new cooperative's id): from then on the founder records nothing at all, whatever the date
  (`Cooperative.check_not_sealed`), and stays fully readable; nothing of it is rewritten.

Refusals (nothing is written): unknown or already sealed founder, a founder with an event dated on
or after D (its history must end before the federation), D inside a founder's closed fiscal year,
a founder's fiscal year that ended before D with entries and no closing (close it first: the opening
would otherwise mix several years' results into one line), a member id clash with `keep`.

Open items carried as state (domain/federation_carry.py): the balances of *managed* accounts (fee
calls on 411, capital shares on 1013, earmarked gifts...) are the sum of items their commands track;
each family that can carry its items records them in the new cooperative, and the federation checks
that what is carried equals the founder's balance, account by party. A managed balance nothing
carries is refused (rule `open_items_not_carried`): settle it in the founder before federating.
Capital shares of moving members are carried (SharesCarried, domain/shares_carry.py), converted to
the federation's share value: refused when the capital is not a whole number of its shares, or
when the federation has no capital (field `share_value`); shares of members who left stay behind
and are refused by the generic check (redeem them first).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.closing import fiscal_year_bounds
from domain.cooperative import AddAccount, CollegeSpec, Cooperative, FeeBracket, FoundCooperative, add_account, found_cooperative
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.federation_carry import CarryContext, carry_open_items
from domain.federation_members import move_members, moving_members  # noqa: F401  (kept apart; re-exported)
from domain.federation_report import federation_report
from domain.federation_state import BooksSealedByFederation, FederationOpeningCarried, FederationRecorded  # noqa: F401  (the events and the state they build, kept apart; re-exported)
from domain.governance import SetCollegeRules, set_college_rules
from domain.journal import RESULT_CLASSES
from domain.money import EurosIn, Unit
from domain.roles import STATUTES
from domain.rules import a_date, identifier

MAX_FOUNDERS = 20
MEMBER_ID_POLICIES = ("keep", "prefix")
Balances = dict[tuple[str, "str | None", str], int]  # (account, party, unit) -> minor units, debit positive


# ---------------------------------------------------------------- command


@dataclass(frozen=True)
class FederationCollege:
    """A college of the federation: which founders' members sit in it, its weight (all or none,
    as in the statutes) and, optionally, its own fee schedule and eligibility rules."""

    code: str
    name: str
    founders: list[str]
    weight: str | None = None
    fee_schedule: list[FeeBracket] | None = None
    require_fee_paid: bool | None = None
    min_shares: int | None = None


@dataclass(frozen=True)
class FederateCooperatives:
    """Found `coop` from `founders` on `effective_date`: their members join it, their balances open
    its books, and their own books are sealed (read-only from then on)."""

    coop: str
    name: str
    legal_form: str
    effective_date: date
    founders: list[str]
    fee_schedule: list[FeeBracket]
    colleges: list[FederationCollege] | None = None  # default: one college per founder, equal weights
    siren: str | None = None
    fiscal_year_start_month: int = 1
    share_value: EurosIn | None = None
    require_fee_paid: bool = True
    min_shares: int = 0
    empty_college_policy: str = "redistribute"
    member_ids: str = "keep"  # or "prefix": "<founder>.<member id>"


@dataclass(frozen=True)
class FounderBooks:
    """What the ledger read from a founder's stored events (the aggregate keeps no balances)."""

    balances: Balances
    latest_effective_date: date | None  # of any event, financial or not


# ---------------------------------------------------------------- pure rules


def founder_slugs(cmd: FederateCooperatives) -> list[str]:
    """The founders' slugs, checked (the ledger needs them to lock and load before deciding)."""
    founders = cmd.founders
    if not isinstance(founders, list) or not founders:
        raise InvalidCommand("founders", "required", "name at least one founding cooperative")
    if len(founders) > MAX_FOUNDERS:
        raise InvalidCommand("founders", "max_items", f"at most {MAX_FOUNDERS} founders")
    slugs = [identifier(f, f"founders[{i}]") for i, f in enumerate(founders)]
    if len(set(slugs)) != len(slugs):
        raise InvalidCommand("founders", "unique_founders", "a founder is named twice")
    if cmd.coop in slugs:
        raise InvalidCommand("founders", "new_cooperative", f"{cmd.coop} is the federation itself, not a founder")
    return slugs


def opening_postings(balances: Balances, party_map: dict[str, str], result_accounts: tuple[str, str]) -> list[list[Any]]:
    """The opening entry of one founder from its balances: classes 1-5 and 8 carried per account x
    party x unit (parties renamed by `party_map`), EUR income and expenses (classes 6-7) netted to one
    result line (surplus on result_accounts[0], deficit on [1]). It balances per unit when the
    founder's books do."""
    postings: list[list[Any]] = []
    result: dict[str, int] = defaultdict(int)
    for (account, party, unit), amount in sorted(balances.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1] or "")):
        if amount == 0:
            continue
        if unit == Unit.EUR.value and account[0] in RESULT_CLASSES:
            result[unit] += amount
            continue
        postings.append([account, party_map.get(party, party) if party is not None else None, unit, amount])
    for unit, total in sorted(result.items()):
        if total:  # debit positive: a credit total is a surplus
            postings.append([result_accounts[0] if total < 0 else result_accounts[1], None, unit, total])
    return postings


def _check_founder(slug: str, i: int, founder: Cooperative | None, books: FounderBooks | None, day: date) -> Cooperative:
    field = f"founders[{i}]"
    if founder is None or books is None:
        raise NotFound(field, "known_cooperative", f"no cooperative {slug!r}")
    if founder.sealed_by_federation is not None:
        raise Conflict(field, "not_sealed", f"{slug} already federated into {founder.sealed_by_federation['federation']}")
    if day <= founder.founded_on:
        raise InvalidCommand("effective_date", "after_founding", f"{slug} was founded on {founder.founded_on}: federate it later")
    founder.closing.check_open(day)  # refuses a date inside a closed fiscal year
    if books.latest_effective_date is not None and books.latest_effective_date >= day:
        raise InvalidCommand(
            "effective_date",
            "after_founder_history",
            f"{slug} has events dated up to {books.latest_effective_date}: a federation is dated after its founders' last event",
        )
    state, start = founder.closing, founder.fiscal_year_start_month
    for year in sorted({founder.fiscal_year_of(date(y, m, 1)) for y, m in founder.journal.months}):
        first_day, last_day = fiscal_year_bounds(year, start)
        if last_day < day and year not in state.closed and (state.closed_through is None or first_day > state.closed_through):
            raise InvalidCommand(
                "effective_date",
                "earlier_year_open",
                f"{slug}'s fiscal year {year} ended on {last_day} with entries and is not closed: close it before federating",
            )
    return founder


def _college_specs(cmd: FederateCooperatives, founders: dict[str, Cooperative]) -> tuple[list[FederationCollege], dict[str, str]]:
    """The colleges, and which college each founder's members join."""
    colleges = cmd.colleges
    if colleges is None:
        colleges = [FederationCollege(code=slug, name=f.name, founders=[slug]) for slug, f in founders.items()]
    if not isinstance(colleges, list) or not colleges:
        raise InvalidCommand("colleges", "required", "give the federation's colleges, or leave them out for one per founder")
    college_of: dict[str, str] = {}
    for i, college in enumerate(colleges):
        for j, slug in enumerate(college.founders or []):
            if slug not in founders:
                raise InvalidCommand(f"colleges[{i}].founders[{j}]", "known_founder", f"{slug!r} is not one of the founders")
            if slug in college_of:
                raise InvalidCommand(f"colleges[{i}].founders[{j}]", "one_college", f"{slug} is placed in two colleges")
            college_of[slug] = college.code
    unplaced = [slug for slug in founders if slug not in college_of]
    if unplaced:
        raise InvalidCommand("colleges", "every_founder_placed", f"founders {', '.join(unplaced)} are in no college")
    return colleges, college_of


# ---------------------------------------------------------------- decider


def _founders(
    existing: Cooperative | None,
    founders_found: dict[str, Cooperative | None],
    books: dict[str, FounderBooks],
    cmd: FederateCooperatives,
) -> tuple[list[str], date, dict[str, Cooperative]]:
    """Whether the federation may be founded at all: its founders (named once, known, not sealed,
    their history ended before its date), a new slug, a known member id policy."""
    slugs = founder_slugs(cmd)
    if existing is not None:
        raise Conflict("coop", "unique_cooperative", f"cooperative {cmd.coop!r} already exists")
    day = a_date(cmd.effective_date, "effective_date")
    founders = {slug: _check_founder(slug, i, founders_found.get(slug), books.get(slug), day) for i, slug in enumerate(slugs)}
    if cmd.member_ids not in MEMBER_ID_POLICIES:
        raise InvalidCommand("member_ids", "known_policy", f"{cmd.member_ids!r} is not one of {', '.join(MEMBER_ID_POLICIES)}")
    return slugs, day, founders


def _found(cmd: FederateCooperatives, colleges: list[FederationCollege], day: date, meta: Meta) -> Cooperative:
    """The new cooperative with its statutes, and the colleges that keep their own fee schedule
    or eligibility rules."""
    new = found_cooperative(
        None,
        FoundCooperative(
            coop=cmd.coop,
            name=cmd.name,
            legal_form=cmd.legal_form,
            founded_on=day,
            colleges=[CollegeSpec(c.code, c.name, c.weight) for c in colleges],
            fee_schedule=cmd.fee_schedule,
            fiscal_year_start_month=cmd.fiscal_year_start_month,
            siren=cmd.siren,
            share_value=cmd.share_value,
            require_fee_paid=cmd.require_fee_paid,
            min_shares=cmd.min_shares,
            empty_college_policy=cmd.empty_college_policy,
        ),
        meta,
    )
    for college in colleges:
        if college.fee_schedule is not None or college.require_fee_paid is not None or college.min_shares is not None:
            set_college_rules(
                new,
                SetCollegeRules(cmd.coop, college.code, day, college.fee_schedule, college.require_fee_paid, college.min_shares),
                meta,
            )
    return new


def _record_openings(
    new: Cooperative,
    cmd: FederateCooperatives,
    founders: dict[str, Cooperative],
    books: dict[str, FounderBooks],
    party_maps: dict[str, dict[str, str]],
    day: date,
    meta: Meta,
) -> tuple[dict[str, list[list[Any]]], dict[str, int]]:
    """Each founder's opening entry, on accounts the new chart gets from the founders' charts.
    Returns the entries' postings and journal numbers, per founder."""
    result_accounts = (new.chart.role("result_surplus"), new.chart.role("result_deficit"))
    openings = {slug: opening_postings(books[slug].balances, party_maps[slug], result_accounts) for slug in founders}
    for slug, postings in openings.items():
        for account in sorted({p[0] for p in postings} - set(new.chart.accounts)):
            source = founders[slug].chart.accounts[account]
            add_account(new, AddAccount(cmd.coop, account, source.label_fr, source.label_en, day), meta)
    numbers: dict[str, int] = {}
    for slug, founder in founders.items():
        numbers[slug] = new.record_entry(
            FederationOpeningCarried,
            effective_date=day,
            meta=meta,
            label=f"À-nouveaux apportés par {founder.name} ({slug}) au {day}",
            postings=openings[slug],
            founder=slug,
            founder_name=founder.name,
            founder_head_number=founder.journal.last_number,
            founder_head_hash=founder.journal.last_hash,
        )
    return openings, numbers


def _seal(
    founders: dict[str, Cooperative],
    cmd: FederateCooperatives,
    numbers: dict[str, int],
    moved: dict[str, list[Any]],
    day: date,
    meta: Meta,
) -> None:
    """Seals each founder's books, naming the federation and the opening entry its balances became."""
    for slug, founder in founders.items():
        founder.record(
            BooksSealedByFederation,
            effective_date=day,
            meta=meta,
            federation=cmd.coop,
            head_number=founder.journal.last_number,
            head_hash=founder.journal.last_hash,
            opening_journal_number=numbers[slug],
            members_moved=len(moved[slug]),
        )


def federate(
    existing: Cooperative | None,
    founders_found: dict[str, Cooperative | None],
    books: dict[str, FounderBooks],
    cmd: FederateCooperatives,
    meta: Meta,
) -> tuple[Cooperative, list[Cooperative], dict[str, Any]]:
    """Decides the whole federation in memory. Returns the new cooperative, the sealed founders
    (with their events pending) and the report of what moved. Every check happens before any
    founder is touched; a refusal leaves the founders unchanged and the new cooperative unsaved."""
    slugs, day, founders = _founders(existing, founders_found, books, cmd)
    colleges, college_of = _college_specs(cmd, founders)
    new = _found(cmd, colleges, day, meta)
    # Members first: a clash is refused before any entry is built.
    party_maps, moved = move_members(new, cmd.coop, cmd.member_ids == "prefix", founders, college_of, day, meta)
    # Then the opening entries, one per founder.
    openings, numbers = _record_openings(new, cmd, founders, books, party_maps, day, meta)
    carried = {
        slug: carry_open_items(
            CarryContext(
                founder_slug=slug,
                founder=founder,
                new=new,
                day=day,
                party_map=party_maps[slug],
                meta=meta,
                field=f"founders[{slugs.index(slug)}]",
            ),
            books[slug].balances,
        )
        for slug, founder in founders.items()
    }
    references = [
        {
            "coop": slug,
            "name": f.name,
            "head_number": f.journal.last_number,
            "head_hash": f.journal.last_hash,
            "opening_journal_number": numbers[slug],
            "college": college_of[slug],
            "members": moved[slug],
        }
        for slug, f in founders.items()
    ]
    new.record(FederationRecorded, effective_date=day, meta=meta, founders=references)
    report = federation_report(cmd.coop, day, new, colleges, references, openings, carried, party_maps)
    # Last, the seals: nothing can be refused any more.
    _seal(founders, cmd, numbers, moved, day, meta)
    return new, list(founders.values()), report


FAMILY = register(
    Family(
        name="federation",
        commands={
            FederateCooperatives: Handler(None, STATUTES)  # decided by the ledger: see Handler
        },
        events={
            "FederationRecorded": Fact("federation.recorded", "cooperative"),
            "FederationOpeningCarried": Fact("federation_opening.carried", "entries", journal="OD"),
            "BooksSealedByFederation": Fact("books.sealed_by_federation", "cooperative"),
        },
    )
)
