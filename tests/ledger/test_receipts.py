"""A receipt's Created event is built directly (ledger/receipts.py new_receipt), not through the
aggregate: it must be the event eventsourcing's own constructor would have made, and read back
into the same receipt."""

from __future__ import annotations

from ledger.app import CommandReceipt, receipt_id
from ledger.receipts import new_receipt


def test_a_receipt_built_directly_is_the_one_the_aggregate_would_create():
    fields = {"coop": "c1", "key": "k-1", "command": "PayFee", "fingerprint": "ab" * 32, "result": {"events": ["FeePaid"]}}
    direct = new_receipt(fields["coop"], fields["key"], fields["command"], fields["fingerprint"], fields["result"])
    made = CommandReceipt._create(CommandReceipt.Created, id=receipt_id("c1", "k-1"), **fields).collect_events()[0]
    assert type(direct) is type(made)
    mine, theirs = dict(vars(direct)), dict(vars(made))
    assert abs(mine.pop("timestamp") - theirs.pop("timestamp")).total_seconds() < 5
    assert mine == theirs
    receipt = direct.mutate(None)  # what a replay of the stored event gives
    assert (receipt.id, receipt.version, receipt.fingerprint, receipt.result) == (
        receipt_id("c1", "k-1"),
        1,
        fields["fingerprint"],
        fields["result"],
    )
