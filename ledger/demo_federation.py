"""Demo commands for a federation: three regional associations of digital actors close their
2025 books and federate on 1 January 2026 into one cluster organised in autonomous colleges (as in
the seeds: "les clusters numériques se fédèrent"; each association worried about losing its history).

`commands(add)` appends the commands (fixed idempotency keys, see ledger/demo.py). Figures by hand (EUR):
- Garrigues Numérique (assoc-garrigues): 4 members, fee 50 / 200 by headcount; 2025 fees called
  50 + 200 + 200 + 50 = 500, paid 450 (Atelier Codex owes 50 at the federation); hosting 120 paid.
  Result 2025: 500 - 120 = 380 surplus. Bank 450 - 120 = 330.
- Littoral Médias (assoc-littoral): 3 members, flat fee 80; called 240, paid 240; a print bill of 90.
  A gift of 500 from the Fondation du Littoral earmarked for the project "studio-radio", 200 of it
  used: 7541 +500, 6896 -500 to fonds dédiés 196, 7896 +200 back from them; 300 stay dedicated.
  Result 150 + 200 = 350; bank 150 + 500 = 650. Léa Marin resigned on 2025-11-30: she stays behind
  (her 2025 fee is paid).
- Cévennes Connectées (assoc-cevennes): 3 members, flat fee 60; called 180, paid 120 (Mas des
  Bytes owes 60); no expense. Result 180; bank 120.
Each founder closes 2025 (income and expenses to 120), then federation on 2026-01-01: 9 members move
(4 + 2 + 3) into colleges garrigues 40 %, littoral 30 %, cevennes 30 %. Opening of the cluster: bank
330 + 650 + 120 = 1,100, members' receivables 50 + 60 = 110, fonds dédiés 196: 300, result 120:
380 + 350 + 180 = 910. The open items come with their balances (domain/federation_carry.py): the
two unpaid 2025 fees, collectable in the cluster, and the gift, still for "studio-radio" only.
The cevennes college keeps its own rules: a flat 30 EUR fee and no fee required to vote.
After the federation the cluster collects Atelier Codex's 50 and spends 120 of the gift.
"""

from __future__ import annotations

from collections.abc import Callable

Add = Callable[..., None]
FEDERATION = "grappe-numerique-occitanie"
FOUNDERS = ("assoc-garrigues", "assoc-littoral", "assoc-cevennes")
FEDERATION_DATE = "2026-01-01"

_FOUNDERS = {
    # slug: (name, SIREN (Luhn-valid, invented), fee schedule, members)
    "assoc-garrigues": (
        "Garrigues Numérique",
        "812345676",
        [{"min_headcount": 1, "max_headcount": 9, "amount": "50"}, {"min_headcount": 10, "max_headcount": None, "amount": "200"}],
        [
            ("G-01", "Atelier Codex", "organisation", 3),
            ("G-02", "Nuage des Garrigues SCOP", "organisation", 25),
            ("G-03", "FabLab du Pic", "organisation", 12),
            ("G-04", "Yanis Ferrand", "person", 1),
        ],
    ),
    "assoc-littoral": (
        "Littoral Médias",
        "823456785",
        [{"min_headcount": 1, "max_headcount": None, "amount": "80"}],
        [
            ("L-01", "Radio Lagune", "organisation", 6),
            ("L-02", "Le Canard des Étangs", "organisation", 4),
            ("L-03", "Léa Marin", "person", 1),
        ],
    ),
    "assoc-cevennes": (
        "Cévennes Connectées",
        "834567893",
        [{"min_headcount": 1, "max_headcount": None, "amount": "60"}],
        [
            ("C-01", "Mas des Bytes", "organisation", 2),
            ("C-02", "Tiers-lieu de la Vallée", "organisation", 9),
            ("C-03", "Rosa Aubrac", "person", 1),
        ],
    ),
}
_PAID = {
    "G-01": None,
    "L-01": "80",
    "L-02": "80",
    "L-03": "80",
    "C-01": None,
    "C-02": "60",
    "C-03": "60",
    "G-02": "200",
    "G-03": "200",
    "G-04": "50",
}  # None: still due at the federation


def founders(add: Add) -> None:
    """The three associations' 2025, closed."""
    for slug, (name, siren, schedule, members) in _FOUNDERS.items():
        add(
            "FoundCooperative",
            coop=slug,
            name=name,
            legal_form="association",
            founded_on="2025-02-01",
            siren=siren,
            colleges=[{"code": "membres", "name": "Membres"}],
            fee_schedule=schedule,
        )
        for member_id, member_name, kind, headcount in members:
            add(
                "AdmitMember",
                coop=slug,
                member_id=member_id,
                name=member_name,
                kind=kind,
                college="membres",
                headcount=headcount,
                effective_date="2025-02-10",
            )
            add("CallFee", coop=slug, member_id=member_id, year=2025, effective_date="2025-03-01")
            if _PAID[member_id] is not None:
                add("PayFee", coop=slug, member_id=member_id, year=2025, amount=_PAID[member_id], effective_date="2025-04-15")
    add(
        "RecordEntry",
        coop="assoc-garrigues",
        label="Hébergement du site 2025",
        piece_ref="F-HEB-2025",
        effective_date="2025-06-30",
        lines=[{"account": "626", "debit": "120"}, {"account": "512", "credit": "120"}],
    )
    add(
        "RecordEntry",
        coop="assoc-littoral",
        label="Impression des programmes",
        piece_ref="F-IMP-2025-09",
        effective_date="2025-09-12",
        lines=[{"account": "626", "debit": "90"}, {"account": "512", "credit": "90"}],
    )
    add(
        "RecordDonation",
        coop="assoc-littoral",
        donation_id="DON-2025-01",
        donor_id="fondation-littoral",
        donor_name="Fondation du Littoral",
        donor_kind="company",
        amount="500",
        effective_date="2025-05-20",
        project="studio-radio",
        donor_address="3 quai de la Lagune, Sète",
    )
    add(
        "UseEarmarkedDonation",
        coop="assoc-littoral",
        donation_id="DON-2025-01",
        amount="200",
        label="Micros du studio",
        effective_date="2025-10-02",
        project="studio-radio",
    )
    add("ResignMember", coop="assoc-littoral", member_id="L-03", effective_date="2025-11-30")
    for slug in FOUNDERS:
        add("CloseFiscalYear", coop=slug, year=2025)


def federation(add: Add) -> None:
    """The federation itself: one command, all or nothing."""
    add(
        "FederateCooperatives",
        coop=FEDERATION,
        name="Grappe Numérique Occitanie",
        legal_form="association",
        effective_date=FEDERATION_DATE,
        siren="845678903",
        founders=list(FOUNDERS),
        fee_schedule=[
            {"min_headcount": 1, "max_headcount": 9, "amount": "60"},
            {"min_headcount": 10, "max_headcount": None, "amount": "250"},
        ],
        colleges=[
            {"code": "garrigues", "name": "Collège Garrigues", "founders": ["assoc-garrigues"], "weight": "40"},
            {"code": "littoral", "name": "Collège Littoral", "founders": ["assoc-littoral"], "weight": "30"},
            {
                "code": "cevennes",
                "name": "Collège Cévennes",
                "founders": ["assoc-cevennes"],
                "weight": "30",
                "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "30"}],
                "require_fee_paid": False,
            },
        ],
    )


def after_federation(add: Add) -> None:
    """The cluster settles what it was carried: a founder's unpaid fee, part of an earmarked gift."""
    add("PayFee", coop=FEDERATION, member_id="G-01", year=2025, amount="50", effective_date="2026-01-20")
    add(
        "UseEarmarkedDonation",
        coop=FEDERATION,
        donation_id="DON-2025-01",
        amount="120",
        label="Câblage du studio",
        effective_date="2026-02-03",
        project="studio-radio",
    )


def commands(add: Add) -> None:
    founders(add)
    federation(add)
    after_federation(add)
