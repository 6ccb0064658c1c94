"""Queries on donations, crowdfunding and advertising: gifts received, dedicated funds of
earmarked gifts, the donors' yearly list for tax receipts and the tax receipts issued, each as a
PDF (personal data: read kind "donors"), advertising contracts and revenue by month."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from api.answers import funding as answers
from api.deps import fresh, reader, views
from api.errors import PROBLEM_RESPONSES
from api.examples import problem
from api.keys import Principal
from api.read_examples import TAX_RECEIPT_PDF, read
from api.schemas import IsoDate
from domain.errors import NotFound
from ledger.db import Database
from projections.advertising import advertising_contracts, advertising_invoices, advertising_revenue_by_month
from projections.donations import dedicated_funds, donations_by_month, donor_receipts, gifts_received
from projections.tax_receipts import receipt_pdf, tax_receipts


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/coops/{coop}", tags=["funding"], dependencies=[Depends(fresh)], responses=PROBLEM_RESPONSES)
    _donation_routes(r)
    _tax_receipt_routes(r)
    _advertising_routes(r)
    return r


def _donation_routes(r: APIRouter) -> None:
    """Gifts received, dedicated funds, the donors' yearly receipts, gifts by month."""

    @r.get(
        "/donations",
        summary="Donations and crowdfunding payouts: gross, platform fee, net, purpose (no donor data)",
        response_model=answers.GiftsReceived,
        responses=read("gifts"),
    )
    def get_gifts(
        coop: str,
        source: str | None = Query(None, pattern="^(donation|crowdfunding)$"),
        after: str = Query("", max_length=64),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("activities")),
        db: Database = Depends(views),
    ) -> answers.GiftsReceived:
        return answers.gifts_received(coop, gifts_received(db, coop, source=source, after=after, limit=limit))

    @r.get(
        "/donations/dedicated-funds",
        summary="Earmarked gifts: dedicated, used and unspent (fonds dédiés) as of a date",
        response_model=answers.DedicatedFunds,
        responses=read("dedicated_funds"),
    )
    def get_dedicated(
        coop: str,
        as_of: IsoDate | None = Query(None, description="Inclusive date YYYY-MM-DD, e.g. a year end."),
        after: str = Query("", max_length=64),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("activities")),
        db: Database = Depends(views),
    ) -> answers.DedicatedFunds:
        return answers.dedicated_funds(dedicated_funds(db, coop, as_of=as_of, after=after, limit=limit))

    @r.get(
        "/donations/receipts",
        summary="A calendar year's gifts per donor, for tax receipts (personal data)",
        response_model=answers.DonorReceipts,
        responses=read("receipts"),
    )
    def get_receipts(
        coop: str,
        year: int = Query(..., ge=1901, le=2199, description="Calendar year of the gifts."),
        after: str = Query("", max_length=64),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("donors")),
        db: Database = Depends(views),
    ) -> answers.DonorReceipts:
        return answers.donor_receipts(donor_receipts(db, coop, year, after=after, limit=limit))

    @r.get(
        "/donations/by-month",
        summary="Gifts received per month (EUR), reversals on their own date",
        response_model=answers.DonationsByMonth,
        responses=read("donations_by_month"),
    )
    def get_donations_by_month(
        coop: str,
        from_month: str = Query("0000-01", pattern=r"^[0-9]{4}-[0-9]{2}$"),
        to_month: str = Query("9999-12", pattern=r"^[0-9]{4}-[0-9]{2}$"),
        _who: Principal = Depends(reader("activities")),
        db: Database = Depends(views),
    ) -> answers.DonationsByMonth:
        with db.read() as tx:
            months = donations_by_month(tx, coop, from_month=from_month, to_month=to_month)
        return answers.donations_by_month(coop, months)


def _tax_receipt_routes(r: APIRouter) -> None:
    """The tax receipts issued (IssueTaxReceipts, CorrectTaxReceipt), and each one as a PDF."""

    @r.get(
        "/tax-receipts",
        summary="A gift year's tax receipts: number, donor, gifts, status; receipts flagged for correction (personal data)",
        response_model=answers.TaxReceipts,
        responses=read("tax_receipts"),
    )
    def get_tax_receipts(
        coop: str,
        year: int = Query(..., ge=1901, le=2199, description="Calendar year of the gifts (the receipts' series)."),
        after: int = Query(0, ge=0, le=2**31, description="The sequence of the last receipt of the previous page."),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("donors")),
        db: Database = Depends(views),
    ) -> answers.TaxReceipts:
        return answers.tax_receipts(tax_receipts(db, coop, year, after=after, limit=limit))

    @r.get(
        "/tax-receipts/{number}.pdf",
        summary="One tax receipt as a PDF (the mentions of Cerfa n° 11580, or 16216 for a company) (personal data)",
        response_class=Response,
        responses={
            200: {
                "description": "The receipt, as a PDF document",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}, "example": TAX_RECEIPT_PDF}},
            },
            **problem(
                404,
                "Not found",
                "cluster-numerique-sud has issued no tax receipt '2026-0042'",
                "receipt_number",
                "known_receipt",
                "Unknown cooperative or receipt",
            ),
        },
    )
    def get_tax_receipt_pdf(
        coop: str, number: str, _who: Principal = Depends(reader("donors")), db: Database = Depends(views)
    ) -> Response:
        pdf = receipt_pdf(db, coop, number)
        if pdf is None:
            raise NotFound("receipt_number", "known_receipt", f"{coop} has issued no tax receipt {number!r}")
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="recu-fiscal-{coop}-{number}.pdf"'},
        )


def _advertising_routes(r: APIRouter) -> None:
    """Advertising contracts, their invoices, revenue by month."""

    @r.get(
        "/advertising/contracts",
        summary="Advertising contracts: placement, price per period, invoiced, paid, due",
        response_model=answers.AdvertisingContracts,
        responses=read("ad_contracts"),
    )
    def get_contracts(
        coop: str,
        after: str = Query("", max_length=64),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("activities")),
        db: Database = Depends(views),
    ) -> answers.AdvertisingContracts:
        return answers.advertising_contracts(coop, advertising_contracts(db, coop, after=after, limit=limit))

    @r.get(
        "/advertising/contracts/{contract_id}/invoices",
        summary="One advertising contract's invoices by period",
        response_model=answers.AdvertisingInvoices,
        responses=read("ad_invoices"),
    )
    def get_invoices(
        coop: str,
        contract_id: str,
        after: str = Query("", max_length=16),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("activities")),
        db: Database = Depends(views),
    ) -> answers.AdvertisingInvoices:
        invoices = advertising_invoices(db, coop, contract_id, after=after, limit=limit)
        return answers.advertising_invoices(coop, contract_id, invoices)

    @r.get(
        "/advertising/revenue",
        summary="Advertising revenue per month: invoiced (the books' income) and received",
        response_model=answers.AdvertisingRevenue,
        responses=read("ad_revenue"),
    )
    def get_revenue(
        coop: str,
        from_month: str = Query("0000-01", pattern=r"^[0-9]{4}-[0-9]{2}$"),
        to_month: str = Query("9999-12", pattern=r"^[0-9]{4}-[0-9]{2}$"),
        _who: Principal = Depends(reader("activities")),
        db: Database = Depends(views),
    ) -> answers.AdvertisingRevenue:
        with db.read() as tx:
            months = advertising_revenue_by_month(tx, coop, from_month=from_month, to_month=to_month)
        return answers.advertising_revenue(coop, months)
