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
    # Issue 3 families. Terms and plans are the statutes' or the treasurer's; operations that move
    # money are the treasurer's; recording what happened on the ground (readings, hours, sensors,
    # applications, subscriptions) is a clerk's.
    "DefineSubscriptionPlan": _STATUTES | _FINANCIAL,
    "StartSubscription": _MEMBERSHIP | _FINANCIAL,
    "CancelSubscription": _MEMBERSHIP | _FINANCIAL,
    "BillSubscription": _FINANCIAL,
    "PaySubscription": _FINANCIAL,
    "SetCertificationTerms": _STATUTES | _FINANCIAL,
    "GrantCertification": _FINANCIAL,
    "RenewCertification": _FINANCIAL,
    "RevokeCertification": _STATUTES | _FINANCIAL,
    "PayCertificationFee": _FINANCIAL,
    "DeclareCourse": _STATUTES | _FINANCIAL,
    "CollectCourseContribution": _FINANCIAL,
    "PayAuthor": _FINANCIAL,
    "PledgeContribution": _FINANCIAL,
    "DeclareContributionResult": _FINANCIAL,
    "CancelContributionResult": _FINANCIAL,
    "PayContribution": _FINANCIAL,
    "OpenCall": _FINANCIAL,
    "RecordApplication": {"clerk"} | _FINANCIAL,
    "AwardGrant": _FINANCIAL,
    "PayGrant": _FINANCIAL,
    "WithdrawGrant": _FINANCIAL,
    "CloseCall": _FINANCIAL,
    "RecordSubsidy": _FINANCIAL,
    "ReceiveSubsidy": _FINANCIAL,
    "UseSubsidy": _FINANCIAL,
    "SetSensorRewardTerms": _STATUTES | _FINANCIAL,
    "RegisterSensor": _MEMBERSHIP,
    "RetireSensor": _MEMBERSHIP,
    "AcceptReadings": {"clerk"},
    "RedeemCreditsForMoney": _FINANCIAL,
    "RedeemCreditsForService": _FINANCIAL,
    "SetEthicalMinimumRate": _STATUTES,
    "EngageSharedEmployee": _STATUTES | _FINANCIAL,
    "LogSharedHours": {"clerk"},
    "RebillSharedHours": _FINANCIAL,
    "CloseFiscalYear": _FINANCIAL,  # issue 6: closing seals the year for good (no reopening)
    # Issue 11: a federation founds a cooperative and seals its founders' books (statutes' business);
    # a college's own fee and eligibility rules are part of the statutes.
    "FederateCooperatives": _STATUTES,
    "SetCollegeRules": _STATUTES,
    # Issue 11: gifts and their uses are the treasurer's; an advertising contract's terms are the
    # statutes' or the treasurer's (like subscription plans), its invoices and payments the treasurer's.
    "RecordDonation": _FINANCIAL,
    "RecordCrowdfundingPayout": _FINANCIAL,
    "UseEarmarkedDonation": _FINANCIAL,
    "SignAdvertisingContract": _STATUTES | _FINANCIAL,
    "EndAdvertisingContract": _STATUTES | _FINANCIAL,
    "InvoiceAdvertising": _FINANCIAL,
    "PayAdvertisingInvoice": _FINANCIAL,
    "SetObservatoryVisibility": _STATUTES,  # issue 7: who may publish the indicators
}

# Reads by kind. "balances" and "standing" are what a reader (another tool) may see.
READ_ROLES: dict[str, set[str]] = {
    "balances": {"admin", "treasurer", "auditor", "reader", "board"},
    "standing": {"admin", "treasurer", "clerk", "auditor", "reader", "board"},
    "journal": {"admin", "treasurer", "auditor"},
    "members": {"admin", "treasurer", "clerk", "auditor", "board"},
    "governance": {"admin", "board", "auditor", "treasurer"},
    "activities": {"admin", "treasurer", "clerk", "auditor", "board"},
    "feed": set(ROLES),  # every role may follow; what each sees: FEED_ACCESS in projections/feed.py
    "webhooks": {"admin"},  # webhook endpoints and their delivery log
    "audit": {"auditor", "admin", "treasurer"},  # issue 6: the audit trail, the chain head, fiscal years
    "reports": {"admin", "treasurer", "auditor", "board"},  # issue 6: trial balance, balance sheet, income statement, statements
    "donors": {"admin", "treasurer", "auditor"},  # donors' names and addresses (tax receipts): personal data
    "observatory": set(ROLES),  # the indicators: any role (and anyone when the cooperative made them public)
}


def may_command(role: str, command: str) -> bool:
    return role in COMMAND_ROLES.get(command, set())


def may_read(role: str, kind: str) -> bool:
    return role in READ_ROLES[kind]
