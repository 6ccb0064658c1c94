"""What the funding reads answer (api/routes_funding.py): gifts received, dedicated funds, the
donors' yearly gifts, gifts by month, the tax receipts issued, advertising contracts, invoices and
revenue.

Every amount here is in euros, an `_eur` field (api/wire.py); the projections' `_cents` rows are
renamed by `rename_minor_fields`, nested rows one by one.

A field that may be null defaults to None, so the schema does not list it as required: FastAPI
drops null members from the examples it publishes, which must still validate. Answers carry it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.wire import Amount, WireModel, rename_minor_fields

COOP = Field(description="The cooperative's identifier.")
NEXT_AFTER = Field(None, description="Pass as `after` for the next page; null on the last page.")


class GiftReceived(WireModel):
    """A donation or a crowdfunding payout: gross, the platform's fee, net (no donor data)."""

    gift_id: str = Field(description="The gift's identifier.")
    source: str = Field(description="donation or crowdfunding.")
    purpose: str | None = Field(None, description="What it is earmarked for (`project:<name>`...); null if not earmarked.")
    platform: str | None = Field(None, description="The crowdfunding platform; null for a donation.")
    campaign: str | None = Field(None, description="The crowdfunding campaign; null for a donation.")
    received_on: str = Field(description="Day it was received, YYYY-MM-DD.")
    gross_eur: Amount = Field(description="What the donors gave.")
    fee_eur: Amount = Field(description="The platform's fee.")
    net_eur: Amount = Field(description="What the cooperative received: gross less fee.")
    journal_number: int = Field(description="The journal entry that recorded it.")
    reversed_on: str | None = Field(None, description="Day it was reversed, YYYY-MM-DD; null if it stands.")


class GiftsReceived(WireModel):
    """Gifts received by gift_id."""

    coop: str = COOP
    gifts: list[GiftReceived] = Field(description="One page of gifts, by gift_id.")


class DedicatedGift(WireModel):
    """An earmarked gift's dedicated fund: dedicated, used and unspent."""

    gift_id: str = Field(description="The gift's identifier.")
    purpose: str = Field(description="What it is earmarked for.")
    source: str = Field(description="donation or crowdfunding.")
    received_on: str = Field(description="Day of its first movement, YYYY-MM-DD.")
    dedicated_eur: Amount = Field(description="Dedicated to its purpose.")
    used_eur: Amount = Field(description="Used on its purpose.")
    unspent_eur: Amount = Field(description="Dedicated, not yet used.")


class DedicatedPurpose(WireModel):
    """The dedicated funds of one purpose, every gift together."""

    purpose: str = Field(description="The purpose.")
    dedicated_eur: Amount = Field(description="Dedicated to it.")
    used_eur: Amount = Field(description="Used on it.")
    unspent_eur: Amount = Field(description="Dedicated, not yet used.")


class DedicatedFunds(WireModel):
    """Earmarked gifts as of a date (fonds dédiés), per gift and per purpose."""

    coop: str = COOP
    as_of: str | None = Field(None, description="The inclusive date asked, YYYY-MM-DD; null for everything recorded.")
    gifts: list[DedicatedGift] = Field(description="One page of earmarked gifts, by gift_id.")
    by_purpose: list[DedicatedPurpose] = Field(description="Every purpose, not only this page's.")
    unspent_eur: Amount = Field(description="Unspent, every purpose together.")
    next_after: str | None = NEXT_AFTER


class DonorGift(WireModel):
    """One gift of a donor in the year."""

    gift_id: str = Field(description="The gift's identifier.")
    date: str = Field(description="Day it was given, YYYY-MM-DD (a reversal: the day of the reversal).")
    amount_eur: Amount = Field(description="What the donor gave (negative for a reversal).")
    nature: str = Field(description="The gift's nature, as a receipt prints it (numéraire).")
    method: str = Field(description="How it was paid.")


class DonorYear(WireModel):
    """A donor's gifts of the year, for a tax receipt (personal data)."""

    donor_id: str = Field(description="The donor's identifier.")
    donor_name: str | None = Field(None, description="The donor's latest name; null if erased.")
    donor_kind: str | None = Field(None, description="individual or company.")
    donor_address: str | None = Field(None, description="The latest address the donor gave; null if none.")
    gifts: list[DonorGift] = Field(description="By date.")
    total_eur: Amount = Field(description="The donor's gifts of the year, reversals deducted.")
    receipt: bool = Field(description="Whether the year gets a receipt (its total is positive).")


class DonorReceipts(WireModel):
    """A calendar year's gifts per donor, with the whole year's totals."""

    coop: str = COOP
    year: int = Field(description="The calendar year of the gifts.")
    donors: list[DonorYear] = Field(description="One page of donors, by donor_id.")
    next_after: str | None = NEXT_AFTER
    named_eur: Amount = Field(description="The year's gifts of named donors (every donor, not only this page's).")
    anonymous_eur: Amount = Field(description="The year's gifts of anonymous backers.")
    total_eur: Amount = Field(description="Named and anonymous: the year's gift income in the journal.")


class DonationMonth(WireModel):
    """Gifts received in one month, reversals on their own date."""

    month: str = Field(description="The month, YYYY-MM.")
    gross_eur: Amount = Field(description="What donors gave that month, net of reversals.")
    lines: int = Field(description="Gift lines that month.")


class DonationsByMonth(WireModel):
    """Gifts received per month."""

    coop: str = COOP
    months: list[DonationMonth] = Field(description="Months with gifts, in order.")


class TaxReceiptIssuer(WireModel):
    """The cooperative as its receipt prints it."""

    name: str = Field(description="Its name.")
    siren: str | None = Field(None, description="Its SIREN number.")
    address: str | None = Field(None, description="Its address.")
    mission: str | None = Field(None, description="Its object, as printed.")
    basis: str | None = Field(None, description="The legal basis of its eligibility.")
    reference: str | None = Field(None, description="The decree or ruling the basis rests on.")
    place: str | None = Field(None, description="Where its receipts are signed.")


class TaxReceiptGift(WireModel):
    """A gift a receipt covers."""

    gift_id: str = Field(description="The gift's identifier.")
    received_on: str = Field(description="Day it was received, YYYY-MM-DD.")
    amount_eur: Amount = Field(description="What the donor gave.")
    method: str = Field(description="How it was paid.")
    form: str = Field(description="The gift's legal form, as printed.")
    reversed_on: str | None = Field(None, description="Day it was reversed after the receipt, YYYY-MM-DD; null if it stands.")


class TaxReceipt(WireModel):
    """A tax receipt (reçu fiscal) issued to a donor for a year's gifts (personal data)."""

    coop: str = COOP
    receipt_number: str = Field(description="Its number, `<year>-<n>`.")
    year: int = Field(description="The calendar year of its gifts.")
    sequence: int = Field(description="Its place in the year's series.")
    status: str = Field(description="issued, replaced or cancelled.")
    donor_id: str = Field(description="The donor's identifier.")
    donor_name: str | None = Field(None, description="The donor's name, as printed; null if erased.")
    donor_address: str | None = Field(None, description="The donor's address, as printed; null if none.")
    donor_kind: str = Field(description="individual or company.")
    article: str = Field(description="The article of the tax code the gifts fall under (200 or 238 bis).")
    total_eur: Amount = Field(description="What the receipt attests.")
    issued_on: str = Field(description="Day it was issued, YYYY-MM-DD.")
    corrects: str | None = Field(None, description="The number of the receipt it replaces; null if none.")
    replaced_by: str | None = Field(None, description="The number of the receipt that replaced it; null if none.")
    cancelled_on: str | None = Field(None, description="Day it was cancelled, YYYY-MM-DD; null if not.")
    issuer: TaxReceiptIssuer = Field(description="The cooperative, as printed.")
    gifts: list[TaxReceiptGift] = Field(description="The gifts it covers.")


class FlaggedGift(WireModel):
    """A gift reversed after the standing receipt that covers it was issued: to correct."""

    receipt_number: str = Field(description="The receipt.")
    gift_id: str = Field(description="The gift reversed.")
    reversed_on: str = Field(description="Day it was reversed, YYYY-MM-DD.")


class TaxReceipts(WireModel):
    """A gift year's tax receipts in number order, and those flagged for correction."""

    coop: str = COOP
    year: int = Field(description="The calendar year of the gifts.")
    receipts: list[TaxReceipt] = Field(description="One page of receipts, by sequence.")
    flagged: list[FlaggedGift] = Field(description="Every flagged gift of the year, not only this page's.")
    standing: int = Field(description="Receipts of the year neither replaced nor cancelled.")
    issued_eur: Amount = Field(description="What the year's standing receipts attest in all.")
    next_after: int | None = Field(None, description="Pass as `after` for the next page; null on the last page.")


class AdvertisingContract(WireModel):
    """An advertising contract and its invoices so far."""

    contract_id: str = Field(description="The contract's identifier.")
    advertiser_id: str = Field(description="The advertiser's identifier.")
    advertiser_name: str = Field(description="The advertiser's name.")
    advertiser_kind: str = Field(description="What kind of organisation it is.")
    placement: str = Field(description="Where the advertisement shows.")
    period: str = Field(description="What one invoice covers (month...).")
    price_eur: Amount = Field(description="Price per period.")
    starts_on: str = Field(description="First day, YYYY-MM-DD.")
    ends_on: str = Field(description="Last day, YYYY-MM-DD.")
    signed_on: str = Field(description="Day it was signed, YYYY-MM-DD.")
    invoices: int = Field(description="Invoices standing.")
    invoiced_eur: Amount = Field(description="What those invoices bill.")
    paid_eur: Amount = Field(description="Of it, paid.")
    due_eur: Amount = Field(description="Of it, still due.")


class AdvertisingContracts(WireModel):
    """Advertising contracts by contract_id."""

    coop: str = COOP
    contracts: list[AdvertisingContract] = Field(description="One page of contracts, by contract_id.")


class AdvertisingInvoice(WireModel):
    """A contract's invoice for one period."""

    period: str = Field(description="The period it bills.")
    advertiser_id: str = Field(description="The advertiser's identifier.")
    amount_eur: Amount = Field(description="What it bills.")
    paid_eur: Amount = Field(description="Of it, paid.")
    due_eur: Amount = Field(description="Of it, still due.")
    invoiced_on: str = Field(description="Day it was issued, YYYY-MM-DD.")


class AdvertisingInvoices(WireModel):
    """One advertising contract's invoices by period."""

    coop: str = COOP
    contract_id: str = Field(description="The contract.")
    invoices: list[AdvertisingInvoice] = Field(description="One page of invoices, by period.")


class AdvertisingMonth(WireModel):
    """Advertising revenue of one month (a reversed invoice counts in the month of its reversal)."""

    month: str = Field(description="The month, YYYY-MM.")
    invoiced_eur: Amount = Field(description="Invoiced: the income account's net credits.")
    received_eur: Amount = Field(description="Cash received.")
    advertisers: int = Field(description="Advertisers invoiced that month.")


class AdvertisingRevenue(WireModel):
    """Advertising revenue per month."""

    coop: str = COOP
    months: list[AdvertisingMonth] = Field(description="Months with movements, in order.")


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rename_minor_fields(row) for row in rows]


def gifts_received(coop: str, rows: list[dict[str, Any]]) -> GiftsReceived:
    return GiftsReceived(coop=coop, gifts=_rows(rows))


def dedicated_funds(funds: dict[str, Any]) -> DedicatedFunds:
    return DedicatedFunds(
        **rename_minor_fields(funds) | {"gifts": _rows(funds["gifts"]), "by_purpose": _rows(funds["by_purpose"])}
    )


def donor_receipts(receipts: dict[str, Any]) -> DonorReceipts:
    donors = [rename_minor_fields(d) | {"gifts": _rows(d["gifts"])} for d in receipts["donors"]]
    return DonorReceipts(**rename_minor_fields(receipts) | {"donors": donors})


def donations_by_month(coop: str, rows: list[dict[str, Any]]) -> DonationsByMonth:
    return DonationsByMonth(coop=coop, months=_rows(rows))


def tax_receipts(receipts: dict[str, Any]) -> TaxReceipts:
    issued = [rename_minor_fields(r) | {"gifts": _rows(r["gifts"])} for r in receipts["receipts"]]
    return TaxReceipts(**rename_minor_fields(receipts) | {"receipts": issued})


def advertising_contracts(coop: str, rows: list[dict[str, Any]]) -> AdvertisingContracts:
    return AdvertisingContracts(coop=coop, contracts=_rows(rows))


def advertising_invoices(coop: str, contract_id: str, rows: list[dict[str, Any]]) -> AdvertisingInvoices:
    return AdvertisingInvoices(coop=coop, contract_id=contract_id, invoices=_rows(rows))


def advertising_revenue(coop: str, rows: list[dict[str, Any]]) -> AdvertisingRevenue:
    return AdvertisingRevenue(coop=coop, months=_rows(rows))
