"""A direct-debit batch as the file the bank takes: ISO 20022 pain.008.001.02 (SEPA core direct
debit initiation), made with sepaxml and validated against the schema sepaxml ships.

Rendered from the cooperative as the ledger loads it: the batch and its items as the event issued
them, the mandates' IBAN and BIC and the members' names opened by the store (they are sealed in
the events: docs/decisions/0013-forgetting-a-person.md). A member forgotten since cannot be
debited: the file is refused, naming the item.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from sepaxml import SepaDD

from domain.errors import InvalidCommand, NotFound
from domain.sepa_rules import SEQUENCE_CODES
from domain.sepa_state import ISSUED, sepa_state
from ledger.service import Ledger

SCHEMA = "pain.008.001.02"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"


def batch_file(ledger: Ledger, coop: str, batch_id: str) -> bytes:
    """The pain.008 XML of the batch, every item (whatever has happened to it since: the file is
    what was sent). Raises NotFound for an unknown batch."""
    cooperative = ledger.cooperative(coop)
    state = sepa_state(cooperative)
    batch = state.batches.get(batch_id)
    if batch is None:
        raise NotFound("batch_id", "known_batch", f"{coop} has no direct-debit batch {batch_id!r}")
    creditor = state.creditor
    assert creditor is not None, "a batch is issued only once the creditor identifier is set"
    document = SepaDD(
        {
            "name": creditor["name"],
            "IBAN": creditor["iban"],
            "BIC": creditor["bic"],
            "batch": True,  # one payment information block per sequence type (FRST, RCUR)
            "creditor_id": creditor["creditor_id"],
            "currency": "EUR",
            "instrument": "CORE",
        },
        schema=SCHEMA,
    )
    header = document._xml.find("CstmrDrctDbtInitn/GrpHdr/MsgId")  # noqa: SLF001 (sepaxml offers no setter)
    assert header is not None
    header.text = batch_id  # the bank's reports name the batch by it
    for item in batch.items:
        mandate = state.mandates[item.mandate_id]
        member = cooperative.members[item.member_id]
        if mandate.iban is None or mandate.bic is None:
            raise InvalidCommand("batch_id", "debtor_known", f"{item.member_id} was forgotten: their IBAN is erased")
        document.add_payment(
            {
                "name": member.name,
                "IBAN": mandate.iban,
                "BIC": mandate.bic,
                "amount": item.amount_cents,
                "type": SEQUENCE_CODES[item.sequence],
                "collection_date": batch.collection_date,
                "mandate_id": mandate.mandate_id,
                "mandate_date": mandate.signed_on,
                "description": f"Cotisation {item.year} {item.member_id}",
                "endtoend_id": item.end_to_end_id,
            }
        )
    return bytes(document.export(validate=True, pretty_print=True))


def batches_summary(ledger: Ledger, coop: str) -> list[dict[str, Any]]:
    """Each batch with its totals, from the aggregate (for the command line)."""
    state = sepa_state(ledger.cooperative(coop))
    return [
        {
            "batch_id": b.batch_id,
            "year": b.year,
            "collection_date": b.collection_date.isoformat(),
            "items": len(b.items),
            "total_cents": b.total_cents,
            "open": sum(1 for i in b.items if i.status == ISSUED),
        }
        for b in state.batches.values()
    ]


def file_totals(xml: bytes) -> dict[str, Any]:
    """What a reader of the file checks first: transactions, control sum, creditor id, sequences."""
    root = ET.fromstring(xml)  # noqa: S314 (our own output)
    ns = {"p": NAMESPACE}
    header = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", ns)
    assert header is not None
    return {
        "msg_id": header.findtext("p:MsgId", namespaces=ns),
        "transactions": int(header.findtext("p:NbOfTxs", namespaces=ns) or 0),
        "control_sum": header.findtext("p:CtrlSum", namespaces=ns),
        "creditor_ids": sorted({e.text or "" for e in root.iterfind(".//p:CdtrSchmeId//p:Id/p:PrvtId/p:Othr/p:Id", ns)}),
        "sequences": sorted(e.text or "" for e in root.iterfind(".//p:PmtTpInf/p:SeqTp", ns)),
        "end_to_end_ids": sorted(e.text or "" for e in root.iterfind(".//p:EndToEndId", ns)),
    }
