"""Who may do what: commands by name (each family declares its commands' roles), reads by kind.

The roles themselves are the cooperative's (domain/roles.py).
"""

from __future__ import annotations

from domain.family import command_roles
from domain.roles import ROLES

# The roles of each command are declared by its family (domain/family.py `command_roles`, read at
# each use so that a family registered after this import is served too). A command no family
# declares is refused to every role.


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
    "audit": {"auditor", "admin", "treasurer"},  # the audit trail, the chain head, fiscal years
    "reports": {"admin", "treasurer", "auditor", "board"},  # trial balance, balance sheet, income statement, statements
    "donors": {"admin", "treasurer", "auditor"},  # donors' names and addresses (tax receipts): personal data
    "persons": {"admin"},  # everything held on one person (right of access): admins answer those requests
    # SEPA mandates (IBAN masked) and direct-debit batches: who handles or checks the money
    "direct_debits": {"admin", "treasurer", "auditor"},
    # a batch's pain.008 file: the members' whole IBANs, for the treasurer who sends it to the bank
    # (and the admin, who answers for personal data and may read every person's anyway)
    "direct_debit_files": {"treasurer", "admin"},
    "bank": {"admin", "treasurer", "auditor"},  # bank lines (payers' names, IBANs), proposals, reconciliation
    "observatory": set(ROLES),  # the indicators: any role (and anyone when the cooperative made them public)
}


def may_command(role: str, command: str) -> bool:
    return role in command_roles().get(command, frozenset())


def may_read(role: str, kind: str) -> bool:
    return role in READ_ROLES[kind]
