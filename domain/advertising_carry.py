"""Advertising contracts carried by a federation (domain/federation_carry.py).

A founder's unpaid advertising invoices are open items on 4117 (party: the advertiser; the same
number in both plans). The opening entry brings the amounts; `AdvertisingContractCarried`
rebuilds, in the federation, the CONTRACT with every invoice it had at the end of D-1 (amount,
paid so far, date), so that:
- PayAdvertisingInvoice collects what is still due, in parts, and refuses overpayment there as
  the founder would have (no_overpayment);
- a contract still running on D goes on: the federation invoices its later periods (a period
  already invoiced by the founder stays invoiced once: invoiced_once) and may end it early
  (EndAdvertisingContract); the placement was sold to the advertiser for the whole term, and the
  federation is the founder's activity from D on.
Carried: every contract with an invoice still due, and every contract whose term runs on or
after D (even when fully paid, so its later periods can be invoiced). A contract that ended
before D and is paid stays behind: nothing is open on it.

The revenue of the carried invoices is the founder's (it is in the opening entry's result line):
the read model's revenue by month (projections/advertising.py) counts no move for a carried
invoice, only the federation's own invoices and the payments it receives.

Ids: contracts and advertisers keep their ids (an advertiser renamed only as the opening entry
renames its party, so both agree). A contract id, or an advertiser id, already carried from
another founder is refused (Conflict, field `founders[i]`, rules `unique_contract` and
`unique_advertiser`): the same id in two founders' books may well be two different advertisers,
and one receivable on 4117 would mix them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.advertising import AdContract, AdInvoice, advertising_state
from domain.errors import Conflict
from domain.events import CoopEvent
from domain.money import Unit
from domain.personal import Personal

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.federation_carry import Carried, CarryContext


class AdvertisingContractCarried(CoopEvent):
    """A founder's advertising contract, carried into a federation on its date with its invoices
    as they stood the day before. No entry: what is still due arrives on 4117 with the founder's
    opening entry; PayAdvertisingInvoice collects it, InvoiceAdvertising bills the later periods."""

    # advertiser_id is the federation's (the founder's, renamed as its opening entry renames parties)
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("advertiser_id", ("advertiser_name",)),)
    contract_id: str
    advertiser_id: str
    advertiser_name: str
    advertiser_kind: str
    placement: str
    period_kind: str
    price_cents: int
    starts_on: date
    ends_on: date
    signed_on: date  # in the founder's books
    invoices: list[dict[str, Any]]  # [{"period", "amount_cents", "paid_cents", "invoiced_on" (ISO date)}], by period
    founder: str
    founder_advertiser_id: str

    def apply(self, coop: Cooperative) -> None:
        state = advertising_state(coop)
        assert self.contract_id not in state.contracts, f"advertising contract {self.contract_id} carried twice"
        contract = AdContract(
            self.contract_id,
            self.advertiser_id,
            self.advertiser_name,
            self.placement,
            self.period_kind,
            self.price_cents,
            self.starts_on,
            self.ends_on,
            self.signed_on,
            advertiser_kind=self.advertiser_kind,
        )
        for invoice in self.invoices:
            carried = AdInvoice(
                invoice["amount_cents"],
                date.fromisoformat(invoice["invoiced_on"]),
                invoice["paid_cents"],
                payments=[(self.effective_date, invoice["paid_cents"])] if invoice["paid_cents"] else [],
            )
            assert 0 <= carried.paid_cents <= carried.amount_cents, f"carried invoice {invoice} paid outside 0..invoiced"
            contract.invoices[invoice["period"]] = carried
        state.contracts[self.contract_id] = contract


def carry_advertising_contracts(ctx: CarryContext) -> Carried:
    """Carries the founder's contracts with an invoice due or a term running on the federation
    date (module docstring); returns what is due per advertiser on 4117."""
    founder, new = ctx.founder, ctx.new
    contracts = [
        c
        for _id, c in sorted(advertising_state(founder).contracts.items())
        if c.ends_on >= ctx.day or any(i.due_cents for i in c.invoices.values())
    ]
    if not contracts:
        return {}
    account = founder.chart.role("advertising_receivable")
    assert new.chart.role("advertising_receivable") == account, "4117 in both plans"
    state = advertising_state(new)
    advertisers = {c.advertiser_id: c.contract_id for c in state.contracts.values()}  # from the founders before this one
    carried: dict[tuple[str, str | None, str], int] = {}
    for c in contracts:
        advertiser_id = ctx.party(c.advertiser_id)
        if c.contract_id in state.contracts:
            raise Conflict(
                ctx.field,
                "unique_contract",
                f"{ctx.founder_slug}'s advertising contract {c.contract_id!r} has the id "
                f"of a contract another founder carries into {new.slug}: contract ids must be unique in the federation",
            )
        if advertiser_id in advertisers:
            raise Conflict(
                ctx.field,
                "unique_advertiser",
                f"{ctx.founder_slug}'s advertiser {advertiser_id!r} (contract "
                f"{c.contract_id}) has the id of another founder's advertiser (contract {advertisers[advertiser_id]}) "
                f"in {new.slug}: one receivable on {account} would mix them; in one founder, settle this advertiser's "
                "invoices and end its contracts before the federation date",
            )
        invoices = [
            {"period": p, "amount_cents": i.amount_cents, "paid_cents": i.paid_cents, "invoiced_on": i.invoiced_on.isoformat()}
            for p, i in sorted(c.invoices.items())
        ]
        assert all(i.invoiced_on < ctx.day and (i.last_on is None or i.last_on < ctx.day) for i in c.invoices.values()), (
            "a founder has no event on or after its federation date"
        )
        new.record(
            AdvertisingContractCarried,
            effective_date=ctx.day,
            meta=ctx.meta,
            contract_id=c.contract_id,
            advertiser_id=advertiser_id,
            advertiser_name=c.advertiser_name,
            advertiser_kind=c.advertiser_kind,
            placement=c.placement,
            period_kind=c.period_kind,
            price_cents=c.price_cents,
            starts_on=c.starts_on,
            ends_on=c.ends_on,
            signed_on=c.signed_on,
            invoices=invoices,
            founder=ctx.founder_slug,
            founder_advertiser_id=c.advertiser_id,
        )
        due = sum(i.due_cents for i in c.invoices.values())
        if due:
            key = (account, c.advertiser_id, Unit.EUR.value)
            carried[key] = carried.get(key, 0) + due
    return carried
