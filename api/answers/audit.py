"""What an auditor and a person read (api/routes_audit.py, api/routes_persons.py): the hash chain's
head and its sealed heads, a verification of the stored events, the fiscal years, the audit trail,
and everything held on one person. Amounts in the wire's form (api/wire.py)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.wire import Amount, UnitCode, WireModel, amount, eur

DAY = "A date YYYY-MM-DD."
HEAD = "A head of the event chain, N:HASH (the number of events and the link of the last one)."


# ---------------------------------------------------------------- the chain and its verification


class SealedHead(WireModel):
    year: int = Field(description="The fiscal year closed.")
    closed_through: str = Field(description="Its last day. " + DAY)
    closing_number: int = Field(description="The closing entry's number.")
    closing_hash: str = Field(description="The journal chain's hash at the closing entry.")
    head_number: int = Field(description="The last entry of the year before the closing.")
    head_hash: str = Field(description="The journal chain's hash at that entry.")
    closed_at: str = Field(description="When the year was closed (ISO 8601, UTC).")
    event_head: str | None = Field(None, description="The event chain's head at the closing. " + HEAD)


class ChainHead(WireModel):
    coop: str = Field(description="The cooperative's id.")
    last_number: int = Field(description="The last journal entry's number (0 before any entry).")
    last_hash: str = Field(description="The journal chain's hash after it (the genesis hash before any entry).")
    recorded_at: str | None = Field(None, description="When that entry was recorded (ISO 8601, UTC).")
    position: int | None = Field(None, description="Its event's position in the log.")
    head: str = Field(description="The event chain's head. " + HEAD)
    events: int = Field(description="The cooperative's events.")
    sealed: list[SealedHead] = Field(description="The heads sealed at each closing, oldest first.")


class VerifiedSeal(WireModel):
    year: int = Field(description="The fiscal year closed.")
    closing_number: int = Field(description="The closing entry's number.")
    head_number: int = Field(description="The last entry of the year before the closing.")
    head_hash: str = Field(description="The journal chain's hash at that entry, recomputed and matched.")
    event_head: str = Field(description="The event chain's head at the closing. " + HEAD)


class HeadCheck(WireModel):
    head: str = Field(description="The head asked about. " + HEAD)
    found: str | None = Field(None, description="The head the store holds at that many events; None: it holds fewer.")
    ok: bool = Field(description="Whether the store still holds the head asked about.")


class VerifyProblem(WireModel):
    kind: str = Field(description="What broke (hash_mismatch, number_gap, link_mismatch, head_mismatch...).")
    number: int | None = Field(None, description="The journal number of the first broken entry; None: not an entry.")
    version: int | None = Field(None, description="The event's version where it was found.")
    message: str = Field(description="What was found, in English.")


class Verification(WireModel):
    coop: str = Field(description="The cooperative's id.")
    ok: bool = Field(description="Whether every chain recomputes from the stored events (and the head asked is held).")
    events: int = Field(description="Events checked.")
    entries: int = Field(description="Journal entries checked.")
    last_number: int = Field(description="The last entry's number.")
    last_hash: str = Field(description="The journal chain's hash after it.")
    head: str = Field(description="The event chain's head recomputed. " + HEAD)
    sealed: list[VerifiedSeal] = Field(description="The closings whose sealed head matched.")
    head_check: HeadCheck | None = Field(None, description="The outcome for the `head` query, when asked.")
    problem: VerifyProblem | None = Field(None, description="The first thing broken; None when ok.")


class FiscalYear(WireModel):
    coop: str = Field(description="The cooperative's id.")
    year: int = Field(description="The fiscal year (the calendar year it starts in).")
    first_day: str = Field(description="Its first day. " + DAY)
    last_day: str = Field(description="Its last day. " + DAY)
    entries: int = Field(description="Journal entries dated in it.")
    status: str = Field(description="open or closed.")
    result_eur: Amount | None = Field(None, description="Income minus expenses in euros, set at closing.")
    closing_number: int | None = Field(None, description="The closing entry's number.")
    closing_hash: str | None = Field(None, description="The journal chain's hash at the closing entry.")
    head_number: int | None = Field(None, description="The last entry of the year before the closing.")
    head_hash: str | None = Field(None, description="The journal chain's hash at that entry.")
    closed_at: str | None = Field(None, description="When it was closed (ISO 8601, UTC).")
    closed_by: str | None = Field(None, description="Who closed it.")
    event_head: str | None = Field(None, description="The event chain's head at the closing. " + HEAD)


class FiscalYears(WireModel):
    coop: str = Field(description="The cooperative's id.")
    fiscal_years: list[FiscalYear] = Field(description="Every fiscal year holding entries or closed, oldest first.")


class AuditEvent(WireModel):
    coop: str = Field(description="The cooperative's id.")
    position: int = Field(description="The event's position in the log.")
    version: int = Field(description="Its version in the cooperative's stream.")
    kind: str = Field(description="The event (MemberAdmitted, EntryReversed...).")
    recorded_at: str = Field(description="When it was recorded (ISO 8601, UTC).")
    effective_date: str | None = Field(None, description="Its effective date. " + DAY)
    actor: str | None = Field(None, description="Who recorded it (key:<id>, cli...).")
    idempotency_key: str | None = Field(None, description="The command's idempotency key.")
    reason: str | None = Field(None, description="The reason given, if any.")
    journal_number: int | None = Field(None, description="The journal entry it recorded, if any.")
    reverses: int | None = Field(None, description="The entry it reverses, if any.")
    label: str | None = Field(None, description="The journal entry's label, if any.")
    accounts: list[str] = Field(description="The accounts its postings touch.")


class AuditTrail(WireModel):
    coop: str = Field(description="The cooperative's id.")
    events: list[AuditEvent] = Field(description="This page's events, oldest first.")
    next_after: int | None = Field(None, description="Pass it as `after` for the next page; None: this page is the last.")


# ---------------------------------------------------------------- a person's data (right of access)


class PersonForgotten(WireModel):
    on: str = Field(description="The erasure's effective date. " + DAY)
    recorded_at: str = Field(description="When it was recorded (ISO 8601, UTC).")
    by: str = Field(description="Who recorded it.")
    reason: str | None = Field(None, description="The reason given.")


class PersonIdentityValue(WireModel):
    field: str = Field(description="The identity field (name, address, iban...).")
    value: Any = Field(description="Its value as recorded (the pseudonym once forgotten).")
    event: str = Field(description="The event holding it.")
    version: int = Field(description="That event's version.")


class PersonBalance(WireModel):
    account: str = Field(description="The account number.")
    unit: UnitCode = Field(description="The unit of `balance`.")
    balance: Amount = Field(description="The person's balance on the account, in `unit` (never 0.00: those are left out).")


class PersonEventField(WireModel):
    name: str = Field(description="The field's name in the event.")
    value: Any = Field(
        description="Its value as the event records it (JSON): amounts there are the event's own integers of minor "
        "units (`_cents`, `_minutes`), as stored, not wire amounts."
    )


class PersonEvent(WireModel):
    version: int = Field(description="The event's version in the cooperative's stream.")
    event: str = Field(description="The event's kind (MemberAdmitted, FeePaid...).")
    fields: list[PersonEventField] = Field(description="Every field the event records, identity opened, in its order.")


class PersonExport(WireModel):
    coop: str = Field(description="The cooperative's id.")
    person_id: str = Field(description="The person's id.")
    linked_ids: list[str] = Field(description="Other ids found to be theirs (a bank counterparty matched).")
    exported_at: str = Field(description="When this export was made (ISO 8601, UTC).")
    has_key: bool = Field(description="Whether their identity key is still held (false once forgotten).")
    forgotten: PersonForgotten | None = Field(None, description="The erasure, once they were forgotten.")
    identity: list[PersonIdentityValue] = Field(description="Every identity value held, with where it comes from.")
    balances: list[PersonBalance] = Field(description="Their balances per account and unit, zero ones left out.")
    events: list[PersonEvent] = Field(description="Every event naming them, in order.")


# ---------------------------------------------------------------- from the projections' dicts


def fiscal_year(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k != "result_cents"}
    return {**out, "result_eur": eur(row["result_cents"])}


def person_export(export: dict[str, Any]) -> dict[str, Any]:
    """The export with balances as Amounts and each event's fields as name/value rows: the events'
    fields vary by kind, so they are listed rather than typed one by one."""
    balances = [
        {"account": b["account"], "unit": b["unit"], "balance": amount(b["balance_minor"], b["unit"])} for b in export["balances"]
    ]
    events = [
        {
            "version": e["version"],
            "event": e["event"],
            "fields": [{"name": k, "value": v} for k, v in e.items() if k not in ("version", "event")],
        }
        for e in export["events"]
    ]
    return {**export, "balances": balances, "events": events}
