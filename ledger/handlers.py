"""The handler map: which domain decider handles which command.

A new command touches its family module (command, event, decider) and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain import cooperative, corrections, entries, fees, governance, membership
from domain.cooperative import Cooperative
from domain.events import Meta

Decider = Callable[[Cooperative, Any, Meta], None]

# Commands on an existing cooperative. FoundCooperative and ReverseEntry need more than the
# aggregate (no aggregate yet; the original event) and are handled by the service itself.
HANDLERS: dict[type, Decider] = {
    cooperative.AddAccount: cooperative.add_account,
    membership.AdmitMember: membership.admit_member,
    membership.TransferMember: membership.transfer_member,
    membership.ResignMember: membership.resign_member,
    membership.ExcludeMember: membership.exclude_member,
    membership.SubscribeShares: membership.subscribe_shares,
    membership.RedeemShares: membership.redeem_shares,
    fees.CallFee: fees.call_fee,
    fees.PayFee: fees.pay_fee,
    entries.RecordEntry: entries.record_entry,
    governance.AmendStatutes: governance.amend_statutes,
    governance.SetVotingPolicy: governance.set_voting_policy,
    governance.RecordResolution: governance.record_resolution,
    governance.CastVote: governance.cast_vote,
}

SPECIAL_COMMANDS: tuple[type, ...] = (cooperative.FoundCooperative, corrections.ReverseEntry)

COMMANDS: dict[str, type] = {cls.__name__: cls for cls in (*SPECIAL_COMMANDS, *HANDLERS)}
