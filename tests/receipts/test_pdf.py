"""A tax receipt's PDF read back as a donor's tool would: its text, extracted by pdftotext (Debian
package poppler-utils, installed by `make tools`), holds the mentions of Cerfa n° 11580 (or 16216
for a company), the article of the CGI, the donor and the amount in figures and in words; on both
stores. Without pdftotext those tests are skipped, except under CI=true, where they fail.
The amount in words is also checked on its own (no binary needed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.corrections import ReverseEntry
from domain.donations import RecordDonation
from domain.tax_receipts import CorrectTaxReceipt
from ledger.receipt_pdf import amount_in_words, figures
from ledger.service import Ledger
from projections.runner import ProjectionRunner
from projections.tax_receipts import receipt_pdf
from tests.builders import ok
from tests.receipts.helpers import COOP, books, issue


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext extracts it, spaces (no-break ones too) collapsed to one."""
    binary = shutil.which("pdftotext")
    if binary is None:
        message = "pdftotext is not installed (Debian package poppler-utils: `make tools` installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {message}; the receipts' PDF text must be checked in CI", pytrace=False)
        pytest.skip(message)
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([binary, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60)
    return re.sub(r"\s+", " ", out.stdout.decode("utf-8").replace("\u00a0", " "))


@pytest.fixture
def receipts(ledger: Ledger, runner: ProjectionRunner) -> Ledger:
    """The shared books, plus Chloé's gift of 250 by cheque: her receipt is 2025-0004."""
    books(ledger)
    ok(ledger, RecordDonation(COOP, "D4", "chloe", "Chloé Lefèvre-Œuvray", "individual", Decimal("250"), date(2025, 6, 1),
                              method="cheque", donor_address="7 impasse des Tilleuls, 30900 Nîmes"))  # fmt: skip
    issue(ledger)
    runner.catch_up()
    return ledger


LEGAL_MENTIONS = [
    "Reçu au titre des dons à certains organismes d'intérêt général",
    "Bénéficiaire des versements",
    "Nom ou dénomination : Réseau démo",
    "Adresse : 2 rue de la Loge, 34000 Montpellier",
    "Objet : Accompagner les médias de proximité",
    "[X] Œuvre ou organisme d'intérêt général",
    "Donateur",
    "Le bénéficiaire reconnaît avoir reçu au titre des dons et versements ouvrant droit à réduction d'impôt la somme de",
    "Le bénéficiaire certifie sur l'honneur que les dons et versements qu'il reçoit ouvrent droit à la réduction d'impôt",
    "[X] Déclaration de don manuel",
    "[X] Numéraire",
    "Fait à Montpellier, le 15 janvier 2026",
    "Signature",
]


def test_an_individuals_receipt_holds_the_legal_mentions_the_article_the_donor_and_the_amount_in_words(
    receipts: Ledger, tmp_path: Path
):
    text = pdf_text(receipt_pdf(receipts.db, COOP, "2025-0004"), tmp_path)
    for mention in LEGAL_MENTIONS:
        assert mention in text, (mention, text)
    assert "Numéro d'ordre du reçu : 2025-0004" in text
    assert "Article 200 du code général des impôts" in text and "Cerfa n° 11580" in text
    assert "[X] 200 du CGI" in text and "[ ] 238 bis du CGI" in text
    assert "Nom et prénoms : Chloé Lefèvre-Œuvray" in text and "7 impasse des Tilleuls, 30900 Nîmes" in text
    assert "*** 250,00 euros ***" in text and "Somme en toutes lettres : deux cent cinquante euros" in text
    assert "Date du versement ou du don : 1er juin 2025" in text
    assert "[X] Chèque" in text and "[ ] Remise d'espèces" in text


def test_a_companys_receipt_cites_article_238_bis(receipts: Ledger, tmp_path: Path):
    text = pdf_text(receipt_pdf(receipts.db, COOP, "2025-0001"), tmp_path)
    for mention in LEGAL_MENTIONS:
        assert mention in text, mention
    assert "Article 238 bis du code général des impôts" in text and "Cerfa n° 16216" in text
    assert "[ ] 200 du CGI" in text and "[X] 238 bis du CGI" in text
    assert "Nom ou dénomination : ACME SA" in text and "Somme en toutes lettres : deux mille euros" in text


def test_a_corrected_receipt_says_which_it_replaces(receipts: Ledger, runner: ProjectionRunner, tmp_path: Path):
    ok(receipts, ReverseEntry(COOP, 1, "Virement rejeté", date(2026, 2, 3)))  # alice's D1 (150)
    ok(receipts, CorrectTaxReceipt(COOP, "2025-0002", date(2026, 2, 10)))
    runner.catch_up()
    text = pdf_text(receipt_pdf(receipts.db, COOP, "2025-0005"), tmp_path)
    assert "Ce reçu annule et remplace le reçu n° 2025-0002" in text
    assert "*** 300,00 euros ***" in text and "trois cents euros" in text and "Alice Martin" in text
    replaced = pdf_text(receipt_pdf(receipts.db, COOP, "2025-0002"), tmp_path)
    assert "REÇU ANNULÉ" in replaced and "remplacé par le reçu n° 2025-0005" in replaced


@pytest.mark.parametrize(
    ("cents", "words"),
    [
        (25_000, "deux cent cinquante euros"),
        (100, "un euro"),
        (101, "un euro et un centime"),
        (8_050, "quatre-vingts euros et cinquante centimes"),
        (45, "quarante-cinq centimes"),
        (1_245_000, "douze mille quatre cent cinquante euros"),
        (100_000_000, "un million d'euros"),
    ],
)
def test_amounts_in_words_are_french_with_euros_and_centimes(cents: int, words: str):
    assert amount_in_words(cents) == words


def test_amounts_in_figures_are_french():
    assert figures(1_245_000).replace("\u00a0", " ") == "12 450,00 euros"
