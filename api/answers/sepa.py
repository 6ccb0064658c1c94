"""What the SEPA direct debit reads answer (api/routes_sepa.py): mandates, IBAN masked, and batches
with each item's status. Amounts in euros, `..._eur` as the wire's decimal string (api/wire.py).
The batch's pain.008 file is XML, not described here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.wire import Amount, WireModel, eur


class DirectDebitMandate(WireModel):
    """A member's SEPA mandate (RecordMandate). Its IBAN and BIC are the member's: erased (null) once
    the member is forgotten."""

    mandate_id: str = Field(description="The mandate's unique reference (RUM).")
    member_id: str
    iban: str | None = Field(None, description='Masked: country, check digits and last four characters ("FR76 **** 6052").')
    bic: str | None = None
    signed_on: str = Field(description="YYYY-MM-DD.")
    sequence: Literal["first", "recurring"] = Field(
        description="The next collection's: first, then recurring once one went through."
    )
    last_used_on: str | None = Field(None, description="The last collection on it (YYYY-MM-DD).")
    revoked_on: str | None = Field(None, description="YYYY-MM-DD, when revoked (or its collection returned as gone).")
    revoke_reason: str | None = None


class DirectDebitMandates(WireModel):
    coop: str
    mandates: list[DirectDebitMandate] = Field(description="By reference, a page from `after`.")


class DirectDebitItem(WireModel):
    """One member's collection in a batch, and what became of it."""

    end_to_end_id: str = Field(description="The id the bank carries back on a return.")
    member_id: str
    mandate_id: str
    year: int = Field(description="The fee's year.")
    amount_eur: Amount
    sequence: Literal["first", "recurring"]
    status: Literal["issued", "collected", "returned"]
    collected_on: str | None = Field(None, description="YYYY-MM-DD.")
    returned_on: str | None = Field(None, description="YYYY-MM-DD.")
    reason_code: str | None = Field(None, description="A return's ISO 20022 reason code (AM04...).")
    reason: str | None = Field(None, description="That code in words.")


class DirectDebitBatch(WireModel):
    """A batch of direct debits issued together (IssueDirectDebits), one pain.008 file."""

    batch_id: str
    year: int = Field(description="The fees' year.")
    collection_date: str = Field(description="The day the bank collects (YYYY-MM-DD).")
    issued_on: str = Field(description="YYYY-MM-DD.")
    total_eur: Amount = Field(description="The sum of its items.")
    collected_on: str | None = Field(None, description="YYYY-MM-DD, once recorded as collected.")
    items: list[DirectDebitItem]


class DirectDebitBatches(WireModel):
    coop: str
    batches: list[DirectDebitBatch] = Field(description="By id, a page from `after`.")


def _item(row: dict[str, Any]) -> dict[str, Any]:
    answer = {k: v for k, v in row.items() if k != "amount_cents"}
    return {**answer, "amount_eur": eur(row["amount_cents"])}


def batch(row: dict[str, Any]) -> dict[str, Any]:
    """A batch of projections/sepa.batches with its amounts in the wire's form."""
    answer = {k: v for k, v in row.items() if k != "total_cents"}
    return {**answer, "total_eur": eur(row["total_cents"]), "items": [_item(i) for i in row["items"]]}
