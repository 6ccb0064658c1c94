"""Bank statements through the ledger, on SQLite and PostgreSQL: import (CAMT.053, OFX, CSV) once per
line, proposals with their reasons, confirmations (sure ones at once, partial, one transfer for two
calls, never twice), and the reconciliation report.

The association "demo" has members A (headcount 1: fee 100.00), B (headcount 10: 250.50) and C
(headcount 1: 100.00), each with the 2020 fee called on 2020-02-01; bank account BQ on 512.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.bank import ImportBankStatement, OpenBankAccount, SetCsvMapping
from domain.bank_items import reference_of
from domain.bank_matching import Allocation, ConfirmBankMatch, ConfirmSureBankMatches
from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand
from domain.fees import CallFee
from ledger.bank_files import read_statements
from ledger.bank_writers import CSV_DEBIT_CREDIT_MAPPING, Line, camt053, csv_debit_credit, ofx
from ledger.service import Ledger
from projections.bank_reads import bank_lines, bank_proposals, bank_reconciliation
from tests.builders import admit, found_association, new_key, ok, stored_event_count

D = Decimal
IBAN = "FR7630006000011234567890189"
PAYER_IBAN = "FR1420041010050500013M02606"
DAY = date(2020, 3, 2)


@pytest.fixture
def books(ledger: Ledger) -> Ledger:
    ok(ledger, found_association())
    for member_id, headcount in (("A", 1), ("B", 10), ("C", 1)):
        ok(ledger, admit("demo", member_id, "users", date(2020, 1, 10), headcount=headcount))
        ok(ledger, CallFee("demo", member_id, 2020, date(2020, 2, 1)))
    ok(ledger, OpenBankAccount("demo", "BQ", IBAN, "Compte courant", date(2020, 1, 1)))
    return ledger


def account(ledger: Ledger) -> Any:
    return ledger.cooperative("demo").bank.accounts["BQ"]


def import_file(ledger: Ledger, data: bytes, fmt: str | None = None, **kw: Any) -> list[dict[str, Any]]:
    reports = []
    for command in read_statements(data, fmt, "demo", account(ledger), **kw):
        reports.append(ok(ledger, command).report)
    return reports


def lines_of(ledger: Ledger) -> list[dict[str, Any]]:
    return bank_lines(ledger, "demo", "BQ")


def last_entry(ledger: Ledger) -> int:
    return ledger.cooperative("demo").journal.last_number


STATEMENT = [
    Line(DAY, D("100.00"), "Virement cotisation", "T1", "Member A", None, reference_of("fee:A:2020")),
    Line(DAY, D("250.50"), "VIR MEMBER B", "T2", "Member B", PAYER_IBAN),
    Line(date(2020, 3, 3), D("-12.00"), "Frais tenue de compte", "T3"),
]


@pytest.mark.parametrize("fmt", ["camt053", "ofx", "csv"])
def test_a_statement_imported_twice_adds_nothing(books, fmt):
    if fmt == "camt053":
        data = camt053("S-2020-03", IBAN, D("1000"), STATEMENT, date(2020, 3, 31))
    elif fmt == "ofx":
        data = ofx(IBAN, D("1000"), STATEMENT, date(2020, 3, 1), date(2020, 3, 31))
    else:
        ok(books, SetCsvMapping("demo", "BQ", CSV_DEBIT_CREDIT_MAPPING, date(2020, 1, 1)))
        data = csv_debit_credit(STATEMENT)
    first = import_file(books, data, fmt)
    assert [(r["new_lines"], r["recorded"]) for r in first] == [(3, True)]
    before = stored_event_count(books)
    again = import_file(books, data, fmt)
    assert [(r["new_lines"], r["already_known"], r["recorded"]) for r in again] == [(0, 3, False)]
    assert "nothing new" in again[0]["message"]
    assert stored_event_count(books) == before + 1  # the receipt only
    assert sorted(line["amount_cents"] for line in lines_of(books)) == [-1200, 10000, 25050]


def test_overlapping_statements_add_only_the_new_lines(books):
    import_file(books, camt053("S1", IBAN, D("1000"), STATEMENT[:2], date(2020, 3, 2)))
    later = [*STATEMENT[1:], Line(date(2020, 3, 5), D("100.00"), "C fee", "T4", "Member C")]
    reports = import_file(books, camt053("S2", IBAN, D("1100"), later, date(2020, 3, 31)))
    assert (reports[0]["new_lines"], reports[0]["already_known"]) == (2, 1)
    assert len(lines_of(books)) == 4


def test_lines_without_bank_ids_are_known_by_content_and_rank(books):
    ok(books, SetCsvMapping("demo", "BQ", CSV_DEBIT_CREDIT_MAPPING, date(2020, 1, 1)))
    twice = [Line(DAY, D("100.00"), "same"), Line(DAY, D("100.00"), "same")]
    import_file(books, csv_debit_credit(twice), opening=D("0"))
    overlapping = [*twice, Line(date(2020, 3, 4), D("5.00"), "new")]
    (report,) = import_file(books, csv_debit_credit(overlapping), opening=D("0"))
    assert (report["new_lines"], report["already_known"]) == (1, 2)


def test_csv_with_french_thousands_and_debit_credit_columns(books):
    ok(books, SetCsvMapping("demo", "BQ", CSV_DEBIT_CREDIT_MAPPING, date(2020, 1, 1)))
    data = "Date;Libellé;Débit;Crédit;Réf\r\n02/03/2020;Gros virement;;1 234,56;\r\n03/03/2020;Frais;12,00;;\r\n".encode(
        "latin-1"
    )
    (command,) = read_statements(data, "csv", "demo", account(books), opening=D("10"))
    assert [str(line.amount) for line in command.lines] == ["1234.56", "-12.00"]
    assert (command.opening_balance, command.closing_balance) == ("10", "1232.56")


def test_a_mapping_with_an_unknown_key_or_bad_layout_is_refused(books):
    for mapping, field, rule in [
        ({**CSV_DEBIT_CREDIT_MAPPING, "sep": ";"}, "mapping.sep", "known_mapping_key"),
        (
            {**CSV_DEBIT_CREDIT_MAPPING, "columns": {"date": 0, "label": 1, "amount": 2, "debit": 3}},
            "mapping.columns.amount",
            "one_amount_layout",
        ),
        ({**CSV_DEBIT_CREDIT_MAPPING, "thousands": ","}, "mapping.thousands", "distinct_marks"),
        ({**CSV_DEBIT_CREDIT_MAPPING, "encoding": "klingon"}, "mapping.encoding", "known_encoding"),
    ]:
        result = books.execute(SetCsvMapping("demo", "BQ", mapping, date(2020, 1, 1)), new_key())
        assert isinstance(result.error, InvalidCommand) and (result.error.field, result.error.rule) == (field, rule)


def test_balances_must_add_up_and_iban_must_be_valid(books):
    bad = ImportBankStatement("demo", "BQ", "X", "manual", "10", "11", date(2020, 3, 1), [])
    assert books.execute(bad, new_key()).error.rule == "balances_add_up"
    wrong = books.execute(OpenBankAccount("demo", "BQ2", "FR7630006000011234567890188", "x", date(2020, 1, 1)), new_key())
    assert (wrong.error.field, wrong.error.rule) == ("iban", "valid_iban")


def test_every_proposal_has_a_reason_and_sure_ones_are_confirmed_at_once(books):
    import_file(books, camt053("S1", IBAN, D("1000"), STATEMENT, date(2020, 3, 31)))
    ok(
        books, ConfirmBankMatch("demo", lines_of(books)[1]["line_id"], [Allocation("fee:B:2020")])
    )  # B paid from PAYER_IBAN before
    ok(books, ReverseEntry("demo", last_entry(books), "test: unmatch", date(2020, 3, 2)))  # unmatched again by the reversal
    proposals = bank_proposals(books, "demo", "BQ")
    assert proposals and all(
        p["reason"] and p["confidence"] in ("sure", "likely", "possible") for x in proposals for p in x["proposals"]
    )
    by_amount = {x["line"]["amount_cents"]: x["proposals"][0] for x in proposals}
    assert by_amount[10000]["confidence"] == "sure" and "structured reference" in by_amount[10000]["reason"]
    assert by_amount[25050]["confidence"] == "sure" and "IBAN" in by_amount[25050]["reason"]
    report = ok(books, ConfirmSureBankMatches("demo", "BQ")).report
    assert report["count"] == 2
    fees = books.cooperative("demo").fee_calls
    assert (fees[("A", 2020)].due_cents, fees[("B", 2020)].due_cents) == (0, 0)
    statuses = {line["amount_cents"]: line["status"] for line in lines_of(books)}
    assert statuses == {10000: "matched", 25050: "matched", -1200: "unmatched"}


def test_a_partial_payment_leaves_the_rest_open_and_one_transfer_pays_two_calls(books):
    ok(books, CallFee("demo", "A", 2021, date(2020, 2, 1)))
    lines = [Line(DAY, D("60.00"), "part of A", "P1", "Member A"), Line(DAY, D("140.00"), "rest and 2021", "P2", "MEMBER A")]
    import_file(books, camt053("S1", IBAN, D("0"), lines, date(2020, 3, 31)))
    first, second = lines_of(books)
    ok(books, ConfirmBankMatch("demo", first["line_id"], [Allocation("fee:A:2020")]))
    assert books.cooperative("demo").fee_calls[("A", 2020)].due_cents == 40_00
    (proposed,) = [x["proposals"] for x in bank_proposals(books, "demo", "BQ")]
    both = [p for p in proposed if len(p["allocations"]) == 2]
    assert both and "sum of" in both[0]["reason"] and both[0]["confidence"] == "likely"
    two = ConfirmBankMatch("demo", second["line_id"], [Allocation("fee:A:2020", "40.00"), Allocation("fee:A:2021", "100.00")])
    result = ok(books, two)
    assert len(result.journal_numbers) == 2
    fees = books.cooperative("demo").fee_calls
    assert (fees[("A", 2020)].due_cents, fees[("A", 2021)].due_cents) == (0, 0)
    assert [line["status"] for line in lines_of(books)] == ["matched", "matched"]
    linked = books.cooperative("demo").identities.linked["A"]
    assert linked == [f"line-{first['line_id']}", f"line-{second['line_id']}"]
    mixed = ConfirmBankMatch("demo", second["line_id"], [Allocation("fee:B:2020", "1.00"), Allocation("fee:C:2020", "1.00")])
    assert books.execute(mixed, new_key()).error.rule == "matched_once"


def test_nothing_is_matched_twice(books):
    import_file(books, camt053("S1", IBAN, D("0"), [Line(DAY, D("100.00"), "A", "Q1")], date(2020, 3, 31)))
    (line,) = lines_of(books)
    too_much = books.execute(ConfirmBankMatch("demo", line["line_id"], [Allocation("fee:B:2020", "150.00")]), new_key())
    assert (too_much.error.field, too_much.error.rule) == ("allocations[0].amount", "within_line")
    ok(books, ConfirmBankMatch("demo", line["line_id"], [Allocation("fee:A:2020")]))
    again = books.execute(ConfirmBankMatch("demo", line["line_id"], [Allocation("fee:C:2020")]), new_key())
    assert isinstance(again.error, Conflict) and again.error.rule == "matched_once"
    import_file(books, camt053("S2", IBAN, D("100"), [Line(DAY, D("100.00"), "A again", "Q2")], date(2020, 3, 31)))
    other = lines_of(books)[1]["line_id"]
    paid = books.execute(ConfirmBankMatch("demo", other, [Allocation("fee:A:2020", "1.00")]), new_key())
    assert (paid.error.field, paid.error.rule) == ("allocations[0].amount", "no_overpayment")


def test_the_reconciliation_is_zero_when_matched_and_names_what_is_not(books, runner):
    lines = [Line(DAY, D("100.00"), "A", "R1", "Member A"), Line(DAY, D("250.50"), "B", "R2", "Member B")]
    import_file(books, camt053("S1", IBAN, D("0"), lines, date(2020, 3, 31)))
    a, b = lines_of(books)
    ok(books, ConfirmBankMatch("demo", a["line_id"], [Allocation("fee:A:2020")]))
    runner.catch_up()
    report = bank_reconciliation(books, books.db, "demo", "BQ", date(2020, 3, 31))
    assert (report["bank_balance"], report["ledger_balance"], report["difference"]) == ("350.50", "100.00", "250.50")
    assert [line["line_id"] for line in report["unmatched_bank_lines"]] == [b["line_id"]]
    ok(books, ConfirmBankMatch("demo", b["line_id"], [Allocation("fee:B:2020")]))
    runner.catch_up()
    report = bank_reconciliation(books, books.db, "demo", "BQ", date(2020, 3, 31))
    assert report["difference_cents"] == 0 and report["unmatched_bank_lines"] == [] and report["unmatched_ledger_movements"] == []


def test_forgetting_the_payer_forgets_the_lines_sealed_identity(books, make_ledger, runner):
    from domain.identities import ForgetPerson
    from domain.membership import ResignMember

    line = Line(DAY, D("100.00"), "Virement de Member A", "F1", "Member A", PAYER_IBAN)
    import_file(books, camt053("S1", IBAN, D("0"), [line], date(2020, 3, 31)))
    (view,) = lines_of(books)
    assert (view["counterparty_name"], view["counterparty_iban"]) == ("Member A", PAYER_IBAN)
    ok(books, ConfirmBankMatch("demo", view["line_id"], [Allocation("fee:A:2020")]))
    runner.catch_up()  # the change feed holds the line's fact, name and IBAN opened
    ok(books, ResignMember("demo", "A", date(2020, 6, 30)))
    ok(books, ForgetPerson("demo", "A", "the person's request", date(2020, 7, 1)))
    for ledger in (books, make_ledger()):  # the state that lived through it, and one replayed from the store
        (after,) = bank_lines(ledger, "demo", "BQ")
        assert after["counterparty_name"] == f"line-{view['line_id']} (identité effacée)"
        assert after["counterparty_iban"] is None and "Member A" not in after["label"]
        assert after["status"] == "matched"
    from ledger.verify import verify_store

    assert [r.problem for r in verify_store(books)] == [None]  # the sealed values of the line: its key is gone with A's
    runner.catch_up()
    with books.db.read() as tx:
        facts = [row[0] for row in tx.execute("SELECT fact_json FROM feed_facts WHERE coop = 'demo'")]
    assert any("bank_statement.imported" in f for f in facts) and not any(PAYER_IBAN in f or "Member A" in f for f in facts)


def test_a_snapshot_of_the_bank_state_reads_back_equal(books):
    from ledger import snapshots

    import_file(books, camt053("S1", IBAN, D("0"), STATEMENT, date(2020, 3, 31)))
    ok(books, ConfirmSureBankMatches("demo", "BQ"))
    state = books.cooperative("demo").bank
    again = snapshots.decode_state(snapshots.encode_state({"bank": state}))["bank"]
    assert again == state and len(again.lines) == 3 and any(line.matches for line in again.lines.values())


def test_a_returned_line_gets_no_proposal_and_pays_nothing(books):
    returned = Line(DAY, D("100.00"), "RETOUR", "R9", "Member A", None, reference_of("fee:A:2020"), "E2E-1", "AC04")
    import_file(books, camt053("S1", IBAN, D("0"), [returned], date(2020, 3, 31)))
    (line,) = lines_of(books)
    assert (line["return_reason"], line["end_to_end_id"]) == ("AC04", "E2E-1")
    assert bank_proposals(books, "demo", "BQ")[0]["proposals"] == []
    refused = books.execute(ConfirmBankMatch("demo", line["line_id"], [Allocation("fee:A:2020")]), new_key())
    assert (refused.error.field, refused.error.rule) == ("line_id", "not_returned")


def test_a_bank_account_on_another_ledger_account_is_imported_but_not_confirmed(books):
    from domain.cooperative import AddAccount

    ok(books, AddAccount("demo", "5121", "Banque 2", "Bank 2", date(2020, 1, 1)))
    ok(books, OpenBankAccount("demo", "BQ2", PAYER_IBAN, "Second bank", date(2020, 1, 1), ledger_account="5121"))
    second = books.cooperative("demo").bank.accounts["BQ2"]
    (command,) = read_statements(
        camt053("S1", PAYER_IBAN, D("0"), [Line(DAY, D("100.00"), "A", "Z1")], date(2020, 3, 31)), None, "demo", second
    )
    ok(books, command)
    (line,) = bank_lines(books, "demo", "BQ2")
    refused = books.execute(ConfirmBankMatch("demo", line["line_id"], [Allocation("fee:A:2020")]), new_key())
    assert (refused.error.field, refused.error.rule) == ("line_id", "bank_role_account")
    wrong = books.execute(OpenBankAccount("demo", "BQ3", IBAN, "x", date(2020, 1, 1), ledger_account="411"), new_key())
    assert isinstance(wrong.error, Conflict) and wrong.error.rule == "unique_bank_account"  # the IBAN is BQ's already


def test_a_line_is_tied_to_entries_already_in_the_books(books, runner):
    from domain.bank_links import LinkBankLine
    from domain.entries import EntryLine, RecordEntry
    from domain.fees import PayFee

    paid = ok(books, PayFee("demo", "A", 2020, D("100.00"), DAY)).journal_numbers[0]  # recorded by hand before the statement came
    fees = ok(
        books, RecordEntry("demo", "Frais bancaires mars", [EntryLine("627", D("12")), EntryLine("512", credit=D("12"))], DAY)
    )
    lines = [Line(DAY, D("100.00"), "A", "K1", "Member A"), Line(date(2020, 3, 3), D("-12.00"), "FRAIS", "K2")]
    import_file(books, camt053("S1", IBAN, D("0"), lines, date(2020, 3, 31)))
    credit, debit = lines_of(books)
    runner.catch_up()
    before = bank_reconciliation(books, books.db, "demo", "BQ", date(2020, 3, 31))
    assert before["difference_cents"] == 0 and {m["entry_number"] for m in before["unmatched_ledger_movements"]} == {
        paid,
        *fees.journal_numbers,
    }
    assert [v["candidate_entries"] for v in before["unmatched_bank_lines"]] == [[paid], list(fees.journal_numbers)]
    for refused, field, rule in [
        (LinkBankLine("demo", debit["line_id"], [paid]), "entry_numbers[0]", "same_direction"),
        (LinkBankLine("demo", credit["line_id"], [paid, paid]), "entry_numbers[1]", "distinct_entries"),
        (LinkBankLine("demo", credit["line_id"], [999]), "entry_numbers[0]", "known_entry"),
    ]:
        result = books.execute(refused, new_key())
        assert (result.error.field, result.error.rule) == (field, rule)
    linked = ok(books, LinkBankLine("demo", credit["line_id"], [paid]))
    assert linked.journal_numbers == () and linked.report["person_id"] == "A"
    assert books.cooperative("demo").identities.linked["A"] == [
        credit["counterparty_id"] if "counterparty_id" in credit else f"line-{credit['line_id']}"
    ]
    again = books.execute(LinkBankLine("demo", debit["line_id"], [paid]), new_key())
    assert again.error.rule in ("tied_once", "same_direction")
    assert ok(books, LinkBankLine("demo", debit["line_id"], list(fees.journal_numbers))).report["person_id"] is None
    runner.catch_up()
    after = bank_reconciliation(books, books.db, "demo", "BQ", date(2020, 3, 31))
    assert after["unmatched_bank_lines"] == [] and after["unmatched_ledger_movements"] == [] and after["difference_cents"] == 0
    assert [line["status"] for line in lines_of(books)] == ["matched", "matched"]


def test_a_line_from_a_members_mandate_iban_is_recognised_as_theirs(books):
    from domain.sepa import RecordMandate

    ok(books, RecordMandate("demo", "C", "RUM-C-1", PAYER_IBAN, "PSSTFRPPXXX", date(2020, 1, 20)))
    line = Line(DAY, D("100.00"), "VIREMENT", "T9", "Quelqu'un", PAYER_IBAN)
    import_file(books, camt053("S9", IBAN, D("1000"), [line], date(2020, 3, 31)))
    (proposal,) = [x for x in bank_proposals(books, "demo", "BQ") if x["line"]["amount_cents"] == 10000]
    best = proposal["proposals"][0]
    assert best["confidence"] == "sure" and "IBAN" in best["reason"] and "fee:C:2020" in str(best), best
