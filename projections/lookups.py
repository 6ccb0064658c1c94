"""Names a reader may mistype: an account, a party, a member. An unknown one is an error that
lists what exists (like an unknown cooperative), never an empty result that reads as "nothing
happened" (CLI: exit 1; API: 404 problem+json through the DomainError mapping)."""

from __future__ import annotations

from domain.errors import NotFound
from ledger.db import Database

SHOWN = 20  # names listed in a message at most


def _listed(names: list[str]) -> str:
    more = f", … ({len(names) - SHOWN} more)" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more if names else "none"


# The checks as SQL expressions (true when known), for a read that asks them in its own statement
# (projections/balances.py `checked_balance`): the check costs no round trip of its own.
ACCOUNT_KNOWN = (
    "(EXISTS (SELECT 1 FROM accounts WHERE coop = ? AND number = ?)"
    " OR EXISTS (SELECT 1 FROM journal_lines WHERE coop = ? AND account = ?))"
)
PARTY_KNOWN = (
    "(EXISTS (SELECT 1 FROM members WHERE coop = ? AND member_id = ?)"
    " OR EXISTS (SELECT 1 FROM journal_lines WHERE coop = ? AND party = ?))"
)


def account_known(coop: str, account: str) -> tuple[str, tuple[str, ...]]:
    return ACCOUNT_KNOWN, (coop, account, coop, account)


def party_known(coop: str, party: str) -> tuple[str, tuple[str, ...]]:
    return PARTY_KNOWN, (coop, party, coop, party)


def _exists(db: Database, sql: str, params: tuple[str, ...]) -> bool:
    """Checked on every read that names an account or a party: one statement, one round trip."""
    return bool(db.query(sql, params)[0][0])


def require_account_and_party(db: Database, coop: str, account: str, party: str | None) -> None:
    """require_account, then require_party when a party is named, asked in one statement (one round
    trip where there were two); the lists of what exists are read only when one is unknown."""
    checks = [account_known(coop, account)] + ([party_known(coop, party)] if party is not None else [])
    row = db.query("SELECT " + ", ".join(sql for sql, _ in checks), [p for _, params in checks for p in params])[0]
    if all(row):
        return
    require_account(db, coop, account)
    if party is not None:
        require_party(db, coop, account, party)


def require_account(db: Database, coop: str, account: str) -> None:
    """The account is in the cooperative's chart or has postings."""
    if _exists(db, "SELECT " + ACCOUNT_KNOWN, account_known(coop, account)[1]):
        return
    with db.read() as tx:
        near = [
            r[0]
            for r in tx.execute(
                "SELECT number FROM accounts WHERE coop = ? AND number LIKE ? ORDER BY number", (coop, account[:1] + "%")
            )
        ]
    raise NotFound(
        "account", "known_account", f"no account {account!r} in {coop} (accounts of class {account[:1]}: {_listed(near)})"
    )


def require_party(db: Database, coop: str, account: str, party: str) -> None:
    """The party is a member or appears in the cooperative's postings (it may have none on this account)."""
    if _exists(db, "SELECT " + PARTY_KNOWN, party_known(coop, party)[1]):
        return
    with db.read() as tx:
        on_account = [
            r[0]
            for r in tx.execute(
                "SELECT DISTINCT party FROM journal_lines WHERE coop = ? AND account = ? AND party <> '' ORDER BY party",
                (coop, account),
            )
        ]
    raise NotFound("party", "known_party", f"no party {party!r} in {coop} (parties on {account}: {_listed(on_account)})")


def require_member(db: Database, coop: str, member_id: str) -> None:
    with db.read() as tx:
        if tx.execute("SELECT 1 FROM members WHERE coop = ? AND member_id = ?", (coop, member_id)):
            return
        known = [r[0] for r in tx.execute("SELECT member_id FROM members WHERE coop = ? ORDER BY member_id", (coop,))]
    raise NotFound("member_id", "known_member", f"no member {member_id!r} in {coop} (members: {_listed(known)})")
