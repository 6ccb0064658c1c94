"""The events of the federation family (domain/federation.py) and the state they build on the
Cooperative aggregate: a federation's record of where it came from (`federated_from`), each
founder's seal (`sealed_by_federation`, which makes its books read-only) and the opening entries
carried from the founders' books. The command and the decider that record these events are in
domain/federation.py, which re-exports what is here.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.errors import InvalidCommand
from domain.events import CoopEvent, FinancialEvent
from domain.membership_state import MemberStatus

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


class FederationOpeningCarried(FinancialEvent):
    """One founder's closing balances, opening the federation's books; references the source books."""

    EMPTY_ENTRY_ALLOWED: ClassVar[bool] = True  # a founder with no balance still gets its referenced entry

    founder: str
    founder_name: str
    founder_head_number: int  # the founder's last journal number and chain hash when sealed
    founder_head_hash: str

    @classmethod
    def check_reversible(cls, coop: Any, effect: dict[str, Any], day: date) -> None:
        raise InvalidCommand(
            "entry_number",
            "federation_opening_final",
            "an opening entry carried from a founder's sealed books is not reversed: correct it with an entry",
        )


class FederationRecorded(CoopEvent):
    """Where the federation came from: per founder, its chain head, opening entry and members."""

    founders: list[dict[str, Any]]  # [{"coop", "name", "head_number", "head_hash", "opening_journal_number", "college",
    #                                   "members": [{"member_id", "founder_member_id"}]}]

    def apply(self, coop: Cooperative) -> None:
        coop.federated_from = [dict(f) for f in self.founders]


class BooksSealedByFederation(CoopEvent):
    """The founder's books end here: its balances opened `federation`'s books."""

    federation: str
    head_number: int
    head_hash: str
    opening_journal_number: int
    members_moved: int

    def apply(self, coop: Cooperative) -> None:
        # Its members on that date moved to the federation: from then on they are not its members
        # any more (as of any earlier date, nothing changes).
        moved = [m for m in coop.members.values() if m.is_member_on(self.effective_date)]
        assert len(moved) == self.members_moved, (
            f"{coop.slug}: {len(moved)} members on {self.effective_date}, seal says {self.members_moved}"
        )
        for member in moved:
            member.status, member.left_on = MemberStatus.FEDERATED, self.effective_date
        coop.sealed_by_federation = {
            "effective_date": self.effective_date,
            "federation": self.federation,
            "head_number": self.head_number,
            "head_hash": self.head_hash,
            "opening_journal_number": self.opening_journal_number,
        }
