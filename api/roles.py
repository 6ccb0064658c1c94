"""Who may do what. One table per direction: commands by name, reads by kind.

admin: statutes, accounts, keys; treasurer: every financial command, reversals, closing;
clerk: membership, hours, readings; board: governance reads and votes; auditor: every read;
reader: balances and standing only.
"""

from __future__ import annotations

ROLES = ("admin", "treasurer", "clerk", "board", "auditor", "reader")

_STATUTES = {"admin"}
_MEMBERSHIP = {"admin", "clerk"}
_FINANCIAL = {"treasurer"}
_GOVERNANCE = {"board", "admin"}

# Commands not listed are refused to every role: a new command must be placed here on purpose.
COMMAND_ROLES: dict[str, set[str]] = {
    "FoundCooperative": _STATUTES,
    "AmendStatutes": _STATUTES,
    "SetVotingPolicy": _STATUTES,
    "AddAccount": _STATUTES | _FINANCIAL,
    "AdmitMember": _MEMBERSHIP,
    "TransferMember": _MEMBERSHIP,
    "ResignMember": _MEMBERSHIP,
    "ExcludeMember": _MEMBERSHIP,
    "SubscribeShares": _FINANCIAL,
    "RedeemShares": _FINANCIAL,
    "CallFee": _FINANCIAL,
    "PayFee": _FINANCIAL,
    "RecordEntry": _FINANCIAL,
    "ReverseEntry": _FINANCIAL,
    "RecordResolution": _GOVERNANCE,
    "CastVote": _GOVERNANCE | {"clerk"},  # a clerk records the ballots collected at the assembly
}

# Reads by kind. "balances" and "standing" are what a reader (another tool) may see.
READ_ROLES: dict[str, set[str]] = {
    "balances": {"admin", "treasurer", "auditor", "reader", "board"},
    "standing": {"admin", "treasurer", "clerk", "auditor", "reader", "board"},
    "journal": {"admin", "treasurer", "auditor"},
    "members": {"admin", "treasurer", "clerk", "auditor", "board"},
    "governance": {"admin", "board", "auditor", "treasurer"},
}


def may_command(role: str, command: str) -> bool:
    return role in COMMAND_ROLES.get(command, set())


def may_read(role: str, kind: str) -> bool:
    return role in READ_ROLES[kind]
