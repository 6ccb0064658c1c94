"""Who in a cooperative may send which kind of command.

admin: statutes, accounts, keys; treasurer: every financial command, reversals, closing;
clerk: membership, hours, readings; board: governance reads and votes; auditor: every read;
reader: balances and standing only. Each family names the roles of its commands with the groups
below (domain/family.py); the API refuses a command to every role its family did not name.
"""

from __future__ import annotations

ROLES = ("admin", "treasurer", "clerk", "board", "auditor", "reader")

STATUTES = frozenset({"admin"})
MEMBERSHIP = frozenset({"admin", "clerk"})
FINANCIAL = frozenset({"treasurer"})
GOVERNANCE = frozenset({"board", "admin"})
CLERK = frozenset({"clerk"})  # recording what happened on the ground: readings, hours, applications
