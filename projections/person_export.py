"""What the ledger holds on one person of one cooperative, in JSON (the GDPR's right of access, article 15).

Everything the store holds on a person derives from the events that name them: the views are
rebuilt from those events, and the only other row is their key. So the export is every event of
the cooperative that names the person (as the id of a member, donor, advertiser, employee, author
or host, at any depth, or as the party of a posting), with its identity fields opened, the
identity values gathered with where each comes from, their balances per account, and whether and
when they were forgotten. It reads the events through the store's mapper, as every reader does:
after an erasure it shows the pseudonym, like everything else.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from domain.cooperative import coop_id
from domain.errors import NotFound
from domain.events import FinancialEvent
from domain.personal import PERSON_ID_FIELDS, personal_of
from ledger.stored_history import MAX_EVENTS_PER_COOP, PAGE_EVENTS
from projections.feed import plain

MAX_DEPTH = 16  # event data is a few levels deep; deeper is a bug


def _names(value: Any, ids: frozenset[str], depth: int = 0) -> bool:
    """True when `value` names the person as the id of one of their roles, at any depth."""
    assert depth < MAX_DEPTH, "event data nested deeper than any event defines"
    if isinstance(value, dict):
        if any(value.get(field) in ids for field in PERSON_ID_FIELDS):
            return True
        return any(_names(v, ids, depth + 1) for v in value.values() if isinstance(v, dict | list))
    if isinstance(value, list):
        return any(_names(v, ids, depth + 1) for v in value if isinstance(v, dict | list))
    return False


def _events(ledger: Any, slug: str) -> Any:
    """The cooperative's events in order, decoded (identity opened), read in pages."""
    recorder, mapper, originator = ledger.app.recorder, ledger.app.mapper, coop_id(slug)
    after = 0
    for _ in range(MAX_EVENTS_PER_COOP // PAGE_EVENTS + 1):
        rows = recorder.select_events(originator, gt=after, limit=PAGE_EVENTS)
        yield from (mapper.to_domain_event(row) for row in rows)
        if len(rows) < PAGE_EVENTS:
            return
        after = rows[-1].originator_version


def person_export(ledger: Any, slug: str, person_id: str) -> dict[str, Any]:
    """Everything held on `person_id` in cooperative `slug`; NotFound when no event names them."""
    events, identity, forgotten = [], [], None
    # Ids found to be theirs (a bank line's counterparty once matched): their events are the person's.
    linked = ledger.cooperative(slug).identities.linked.get(person_id, [])
    ids = frozenset([person_id, *linked])
    balances: Counter[tuple[str, str]] = Counter()
    for event in _events(ledger, slug):
        state = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_topic", "identity_in_clear")}
        postings = getattr(event, "postings", None) if isinstance(event, FinancialEvent) else None
        in_postings = bool(postings) and any(p[1] == person_id for p in postings)
        if not (_names(state, ids) or in_postings or state.get("person_id") == person_id):
            continue
        name = type(event).__name__
        if name == "PersonForgotten":
            forgotten = {"on": plain(event.effective_date), "recorded_at": plain(event.timestamp), "by": event.actor}
            forgotten["reason"] = event.reason
        for declared in personal_of(type(event)):
            for holder, person, field in declared.places(state):
                if person in ids and holder[field] is not None:
                    identity.append({"field": field, "value": holder[field], "event": name, "version": event.originator_version})
        for account, party, unit, amount in postings or ():
            if party == person_id:
                balances[(account, unit)] += amount
        events.append({"version": event.originator_version, "event": name, **plain(state)})
    if not events:
        raise NotFound("person_id", "known_person", f"no event of {slug} names {person_id!r}")
    return {
        "coop": slug,
        "person_id": person_id,
        "linked_ids": linked,
        "exported_at": datetime.now(UTC).isoformat(),
        "has_key": bool(ledger.keyring.key(slug, person_id)),
        "forgotten": forgotten,
        "identity": identity,
        "balances": [
            {"account": account, "unit": unit, "balance_minor": amount}
            for (account, unit), amount in sorted(balances.items())
            if amount != 0
        ],
        "events": events,
    }
