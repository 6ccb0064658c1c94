"""What members and advertisers owe, as items a bank line can pay, each with the reference the
cooperative prints on its call (an ISO 11649 RF creditor reference), and paying one through its own
family's decider.

An item is named by a string: "fee:<member>:<year>", "subscription:<subscription>:<period>",
"certification:<certification>", "advertising:<contract>:<period>", "contribution:<pledge>:<year>".
`due_on` judges an allocation exactly as the payment's decider will (what is still due on the day
and on every later recorded date, and not before the call): ConfirmBankMatch checks every allocation
before it pays any, because a decider that refuses after another one recorded would leave the
aggregate half changed (ledger/service.py refuses that).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from domain.advertising import PayAdvertisingInvoice, pay_advertising_invoice
from domain.advertising_state import advertising_state
from domain.certifications import PayCertificationFee, pay_certification_fee
from domain.contributions import PayContribution, pay_contribution
from domain.errors import InvalidCommand, NotFound
from domain.events import FinancialEvent, Meta
from domain.fees import PayFee, pay_fee
from domain.money import Unit, format_minor
from domain.rules import not_before
from domain.subscriptions import PaySubscription, pay_subscription

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

KINDS = ("fee", "subscription", "certification", "advertising", "contribution")
MAX_ITEM_CHARS = 200


@dataclass(frozen=True)
class OpenItem:
    item: str  # "fee:MED-01:2026"...
    kind: str  # one of KINDS
    person_id: str  # who owes it: a member, or an advertiser
    open_cents: int  # still due now
    since: date  # called, billed or invoiced on: no payment before
    what: str  # in words, for the treasurer

    @property
    def reference(self) -> str:
        return reference_of(self.item)

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "kind": self.kind,
            "person_id": self.person_id,
            "open": format_minor(self.open_cents, Unit.EUR),
            "open_cents": self.open_cents,
            "since": self.since.isoformat(),
            "what": self.what,
            "reference": self.reference,
        }


def reference_of(item: str) -> str:
    """The item's ISO 11649 creditor reference ("RF" + 2 check digits + up to 21 characters), printed
    on its call so the payer's bank carries it back: the kind's letter and 16 base-36 digits of the
    item's SHA-256 (item names may hold characters a reference may not). Stable: derived from the name."""
    digest = int.from_bytes(hashlib.sha256(item.encode()).digest()[:12], "big")
    body = ""
    for _ in range(16):  # 16 base-36 digits: 82 bits, no collision among a cooperative's items
        digest, digit = divmod(digest, 36)
        body = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit] + body
    body = item.partition(":")[0][:1].upper() + body
    reference = f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"
    assert iso11649.is_valid(reference), reference
    return reference


def compact_reference(value: str | None) -> str | None:
    """A reference as a bank line carries it, spaces out and upper case; None when it is no valid RF."""
    if not value:
        return None
    compact = iso11649.compact(value)
    return compact if iso11649.is_valid(compact) else None


def open_items(coop: Cooperative) -> list[OpenItem]:
    """Everything still due now, in a stable order. Bounded by the calls, bills and invoices recorded."""
    items: list[OpenItem] = []
    for (member_id, year), call in sorted(coop.fee_calls.items()):
        if call.due_cents > 0:
            first = min((d for d, c in call.call_moves if c > 0), default=date.min)
            items.append(
                OpenItem(f"fee:{member_id}:{year}", "fee", member_id, call.due_cents, first, f"fee {year} of {member_id}")
            )
    for sub in coop.subscriptions.subscriptions.values():  # type: ignore[attr-defined]
        for period, bill in sub.bills.items():
            due = bill.amount_cents - bill.paid_cents
            if due > 0:
                what = f"subscription {sub.subscription_id}, {period}, of {sub.member_id}"
                items.append(
                    OpenItem(
                        f"subscription:{sub.subscription_id}:{period}", "subscription", sub.member_id, due, bill.billed_on, what
                    )
                )
    for cert in coop.certifications.certifications.values():  # type: ignore[attr-defined]
        due = cert.billed_cents - cert.paid_cents
        if due > 0:
            what = f"certification {cert.certification_id} of {cert.member_id}"
            items.append(
                OpenItem(f"certification:{cert.certification_id}", "certification", cert.member_id, due, cert.granted_on, what)
            )
    for contract in advertising_state(coop).contracts.values():
        for period, invoice in contract.invoices.items():
            if invoice.due_cents > 0:
                what = f"advertising {contract.contract_id}, {period}, of {contract.advertiser_id}"
                item = f"advertising:{contract.contract_id}:{period}"
                items.append(OpenItem(item, "advertising", contract.advertiser_id, invoice.due_cents, invoice.invoiced_on, what))
    for pledge in coop.contributions.pledges.values():  # type: ignore[attr-defined]
        for year, declared in sorted(pledge.declared.items()):
            due = declared.called_cents - declared.paid_cents
            if due > 0:
                what = f"success contribution {year} of {pledge.member_id} (pledge {pledge.pledge_id})"
                item = f"contribution:{pledge.pledge_id}:{year}"
                items.append(OpenItem(item, "contribution", pledge.member_id, due, declared.declared_on, what))
    return items


def _parts(item: Any, count: int) -> list[str]:
    parts = item.split(":") if isinstance(item, str) and len(item) <= MAX_ITEM_CHARS else []
    if len(parts) != count or not all(parts):
        raise InvalidCommand(
            "item", "item_name", f"{item!r} is not an item name (e.g. fee:MED-01:2026; kinds: {', '.join(KINDS)})"
        )
    return parts


def _year(text: str) -> int:
    if not text.isdigit() or len(text) != 4:
        raise InvalidCommand("item", "item_name", f"{text!r} is not a year")
    return int(text)


def due_on(coop: Cooperative, item: Any, day: date) -> tuple[str, int]:
    """(who owes it, what is still due on `day` and every later recorded date), judged as the item's
    payment decider judges it; raises the refusal it would raise (unknown item, before the call)."""
    kind = item.partition(":")[0] if isinstance(item, str) else ""
    if kind == "fee":
        _kind, member_id, year = _parts(item, 3)
        call = coop.fee_calls.get((member_id, _year(year)))
        if call is None or call.called_cents == 0:
            raise NotFound("item", "open_item", f"no fee {year} is called for {member_id}")
        not_before(day, coop.member(member_id, "item").admitted_on, "effective_date", f"{member_id}'s admission")
        due, _on = FinancialEvent.lowest_from([(date.min, call.called_cents), *((d, -c) for d, c in call.payments)], day)
        return member_id, due
    if kind == "subscription":
        _kind, sub_id, period = _parts(item, 3)
        sub = coop.subscriptions.subscriptions.get(sub_id)  # type: ignore[attr-defined]
        bill = sub.bills.get(period) if sub is not None else None
        if bill is None:
            raise NotFound("item", "open_item", f"no bill {period} of subscription {sub_id}")
        not_before(day, bill.billed_on, "effective_date", f"the bill of {period}")
        return sub.member_id, bill.unpaid_from(day)[0]
    if kind == "certification":
        _kind, cert_id = _parts(item, 2)
        cert = coop.certifications.certifications.get(cert_id)  # type: ignore[attr-defined]
        if cert is None:
            raise NotFound("item", "open_item", f"no certification {cert_id}")
        not_before(day, cert.granted_on, "effective_date", f"the grant of {cert_id}")
        return cert.member_id, cert.unpaid_from(day)[0]
    if kind == "advertising":
        _kind, contract_id, period = _parts(item, 3)
        contract = advertising_state(coop).contracts.get(contract_id)
        invoice = contract.invoices.get(period) if contract is not None else None
        if contract is None or invoice is None:
            raise NotFound("item", "open_item", f"no invoice {period} of advertising contract {contract_id}")
        not_before(day, invoice.invoiced_on, "effective_date", f"the invoice of {period}")
        due, _on = FinancialEvent.lowest_from([(date.min, invoice.amount_cents), *((d, -c) for d, c in invoice.payments)], day)
        return contract.advertiser_id, due
    if kind == "contribution":
        _kind, pledge_id, year = _parts(item, 3)
        pledge = coop.contributions.pledges.get(pledge_id)  # type: ignore[attr-defined]
        declared = pledge.declared.get(_year(year)) if pledge is not None else None
        if declared is None:
            raise NotFound("item", "open_item", f"no declared {year} contribution on pledge {pledge_id}")
        not_before(day, declared.declared_on, "effective_date", f"the declaration of {year}")
        return pledge.member_id, declared.called_cents - declared.paid_cents
    _parts(None, 0)  # raises: not an item name
    raise AssertionError("unreachable")


def pay(coop: Cooperative, item: str, amount_cents: int, day: date, meta: Meta) -> int:
    """Pays `amount_cents` of `item` on `day` through the item's own payment decider (checked by
    `due_on` first); returns the payment entry's number."""
    amount = format_minor(amount_cents, Unit.EUR)
    kind, _, rest = item.partition(":")
    first, _, second = rest.partition(":")
    if kind == "fee":
        pay_fee(coop, PayFee(coop.slug, first, int(second), amount, day), meta)
    elif kind == "subscription":
        pay_subscription(coop, PaySubscription(coop.slug, first, second, amount, day), meta)
    elif kind == "certification":
        pay_certification_fee(coop, PayCertificationFee(coop.slug, first, amount, day), meta)
    elif kind == "advertising":
        pay_advertising_invoice(coop, PayAdvertisingInvoice(coop.slug, first, second, amount, day), meta)
    else:
        assert kind == "contribution", kind
        pay_contribution(coop, PayContribution(coop.slug, first, int(second), amount, day), meta)
    return coop.journal.last_number
