"""A tax receipt (reçu fiscal) as a PDF: the mentions of Cerfa n° 11580 (gifts of individuals,
CGI art. 200) or of its model for companies, Cerfa n° 16216 (CGI art. 238 bis), for one receipt as
the tax receipts' view reads it (projections/tax_receipts.py `tax_receipt`: the donor's identity as
the store opened it, or the pseudonym once they are forgotten). Rules: docs/rules.md, "Tax receipts".

The text is set in DejaVu Sans, embedded (ledger/fonts/, its licence beside it): the PDF core fonts
are Latin-1 only, which has no "œ" ("Œuvre ou organisme d'intérêt général") and not every donor's
name. Amounts are written in euros, in figures and in words (num2words, French), never with "€".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from fpdf import FPDF
from num2words import num2words

from domain.tax_receipts import BASES

FONTS = Path(__file__).resolve().parent / "fonts"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre")
METHOD_WORDS = {
    "transfer": "virement",
    "cheque": "chèque",
    "card": "carte bancaire",
    "cash": "espèces",
    "platform": "carte bancaire, par une plateforme de financement participatif",
}
# The Cerfa's three modes of payment of a gift of money, and the methods each covers.
PAYMENT_MODES = (
    ("Remise d'espèces", {"cash"}),
    ("Chèque", {"cheque"}),
    ("Virement, prélèvement, carte bancaire", {"transfer", "card", "platform"}),
)
FORMS = (
    ("Acte authentique", "notarial_deed"),
    ("Acte sous seing privé", "private_deed"),
    ("Déclaration de don manuel", "manual_gift"),
    ("Autres", "other"),
)
ARTICLES = ("200", "238 bis")
MODELS = {"200": "Cerfa n° 11580", "238 bis": "Cerfa n° 16216"}


def amount_in_words(cents: int) -> str:
    """French words for an amount in euros: 25000 -> "deux cent cinquante euros", 101 -> "un euro
    et un centime", 100000000 -> "un million d'euros"."""
    euros, rest = divmod(cents, 100)
    parts = []
    if euros or not rest:
        words = num2words(euros, lang="fr")
        if words.endswith(("million", "millions", "milliard", "milliards")):
            parts.append(f"{words} d'euros")
        else:
            parts.append(f"{words} {'euro' if euros <= 1 else 'euros'}")
    if rest:
        parts.append(f"{num2words(rest, lang='fr')} {'centime' if rest == 1 else 'centimes'}")
    return " et ".join(parts)


def figures(cents: int) -> str:
    """12345600 -> "123 456,00 euros" (French digit groups, a comma before the cents)."""
    euros, rest = divmod(cents, 100)
    return f"{euros:,}".replace(",", "\u00a0") + f",{rest:02d} euros"


def french_date(day: str | date) -> str:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def _siren(siren: str | None) -> str:
    return f"{siren[:3]} {siren[3:6]} {siren[6:]}" if siren else "non communiqué"


def _box(checked: bool, label: str) -> str:
    """A box of the form and its label, kept on one line (no-break spaces)."""
    return ("[X]" if checked else "[\u00a0\u00a0]") + "\u00a0" + label.replace(" ", "\u00a0")


class _Receipt(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(18, 15, 18)

    def heading(self, title: str) -> None:
        self.ln(3)
        self.set_font("DejaVu", "B", 11)
        self.set_fill_color(230, 230, 230)
        self.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT", fill=True)
        self.ln(1)

    def line_of(self, label: str, value: str, size: float = 9.5) -> None:
        self.set_font("DejaVu", "B", size)
        width = self.get_string_width(label + " ") + 1
        self.cell(width, 5.5, label)
        self.set_font("DejaVu", "", size)
        self.multi_cell(0, 5.5, value, align="L", new_x="LMARGIN", new_y="NEXT")

    def para(self, text: str, bold: bool = False, size: float = 9.5) -> None:
        self.set_font("DejaVu", "B" if bold else "", size)
        self.multi_cell(0, 5.5, text, align="L", new_x="LMARGIN", new_y="NEXT")


def render_tax_receipt(receipt: dict[str, Any]) -> bytes:
    """One receipt (as projections/tax_receipts.py `tax_receipt` reads it) as PDF bytes."""
    pdf = _Receipt()
    pdf.set_title(f"Reçu fiscal n° {receipt['receipt_number']}")
    pdf.set_author(receipt["issuer"]["name"])
    pdf.set_creation_date(datetime.combine(date.fromisoformat(receipt["issued_on"]), time(12), tzinfo=UTC))
    pdf.add_page()
    _header(pdf, receipt)
    _issuer(pdf, receipt["issuer"])
    pdf.heading("Donateur")
    who = "Nom ou dénomination :" if receipt["donor_kind"] == "company" else "Nom et prénoms :"
    pdf.line_of(who, receipt["donor_name"] or "")
    pdf.line_of("Adresse :", receipt.get("donor_address") or "non communiquée")
    _gifts(pdf, receipt)
    _signature(pdf, receipt)
    return bytes(pdf.output())


def _header(pdf: _Receipt, receipt: dict[str, Any]) -> None:
    """The title, the article and model, the number, and what the receipt replaces or was replaced by."""
    article = receipt["article"]
    pdf.set_font("DejaVu", "B", 13)
    title = "Reçu au titre des dons à certains organismes d'intérêt général"
    pdf.multi_cell(0, 7, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9.5)
    subtitle = f"Article {article} du code général des impôts – contenu du modèle {MODELS[article]}"
    pdf.multi_cell(0, 5, subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.line_of("Numéro d'ordre du reçu :", receipt["receipt_number"], size=11)
    if receipt.get("corrects"):
        pdf.para(f"Ce reçu annule et remplace le reçu n° {receipt['corrects']}, dont un don a été annulé.", bold=True)
    if receipt.get("replaced_by"):
        pdf.para(f"REÇU ANNULÉ : un don qu'il couvre a été annulé ; remplacé par le reçu n° {receipt['replaced_by']}.", True)
    elif receipt.get("cancelled_on"):
        pdf.para(f"REÇU ANNULÉ le {french_date(receipt['cancelled_on'])} : tous les dons qu'il couvre ont été annulés.", True)


def _issuer(pdf: _Receipt, issuer: dict[str, Any]) -> None:
    """The organisation as the receipt was issued: name, SIREN, address, object, basis of eligibility."""
    basis = BASES[issuer["basis"]]
    pdf.heading("Bénéficiaire des versements")
    pdf.line_of("Nom ou dénomination :", issuer["name"])
    pdf.line_of("SIREN :", _siren(issuer.get("siren")))
    pdf.line_of("Adresse :", issuer.get("address") or "")
    pdf.line_of("Objet :", issuer.get("mission") or "")
    pdf.line_of("Qualité :", f"[X] {basis.label} ({basis.law})")
    if issuer.get("reference"):
        pdf.line_of("Référence :", issuer["reference"])


def _gifts(pdf: _Receipt, receipt: dict[str, Any]) -> None:
    """The amount in figures and in words, each gift's date, the article, the form, nature and mode."""
    pdf.heading("Dons et versements")
    pdf.para(
        "Le bénéficiaire reconnaît avoir reçu au titre des dons et versements ouvrant droit à réduction d'impôt la somme de :"
    )
    pdf.line_of("Montant :", f"*** {figures(receipt['total_cents'])} ***", size=11)
    pdf.line_of("Somme en toutes lettres :", amount_in_words(receipt["total_cents"]))
    gifts = receipt["gifts"]
    dates = ", ".join(french_date(g["received_on"]) for g in gifts)
    pdf.line_of("Date du versement ou du don :" if len(gifts) == 1 else "Dates des versements ou des dons :", dates)
    for g in gifts:
        pdf.para(
            f"  – {french_date(g['received_on'])} : {figures(g['amount_cents'])}, {METHOD_WORDS.get(g['method'], g['method'])}"
            f" (don {g['gift_id']})"
        )
    pdf.ln(1)
    pdf.para(
        "Le bénéficiaire certifie sur l'honneur que les dons et versements qu'il reçoit ouvrent droit à la réduction "
        "d'impôt prévue à l'article :"
    )
    pdf.para("      ".join(_box(a == receipt["article"], f"{a} du CGI") for a in ARTICLES))
    forms = {g["form"] for g in gifts}
    methods = {g["method"] for g in gifts}
    pdf.para("Forme du don :", bold=True)
    pdf.para("      ".join(_box(code in forms, label) for label, code in FORMS))
    pdf.para("Nature du don :", bold=True)
    pdf.para("      ".join(_box(label == "Numéraire", label) for label in ("Numéraire", "Titres de sociétés cotés", "Autres")))
    pdf.para("En cas de don en numéraire, mode de versement du don :", bold=True)
    pdf.para("      ".join(_box(bool(methods & covered), label) for label, covered in PAYMENT_MODES))


def _signature(pdf: _Receipt, receipt: dict[str, Any]) -> None:
    pdf.ln(6)
    place = receipt["issuer"].get("place") or "...................."
    pdf.para(f"Fait à {place}, le {french_date(receipt['issued_on'])}")
    pdf.para("Signature du représentant de l'organisme :")
    pdf.ln(18)
    pdf.set_font("DejaVu", "", 7.5)
    pdf.multi_cell(
        0,
        4,
        "Reçu établi par coopledger à partir des dons enregistrés dans les livres du bénéficiaire. Le donateur le conserve "
        "pour justifier de sa réduction d'impôt ; l'organisme en tient le double à la disposition de l'administration.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
