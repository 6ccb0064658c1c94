"""The demo: two invented cooperatives with a year and a half of plausible activity.

Every command has a fixed idempotency key, so loading the demo twice adds nothing.
The figures follow the seed documents: a regional digital cluster (association, colleges
40/20/20/20, fees from 100 EUR to 1,500 EUR by headcount) and a digital-mediation SCIC.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger import demo_bank, demo_donations, demo_federation, demo_funds, demo_income, demo_sepa, demo_units

CLUSTER = "cluster-numerique-sud"
SCIC = "mednum-scic"

_CLUSTER_MEMBERS = [
    # id, name, kind, college, headcount, admitted on
    ("MED-01", "Le Petit Écho du Littoral", "organisation", "medias", 35, "2025-01-20"),
    ("MED-02", "Radio Garrigue", "organisation", "medias", 8, "2025-01-20"),
    ("MED-03", "Télé Cévennes", "organisation", "medias", 60, "2025-02-03"),
    ("MED-04", "Studio Pixel Sud", "organisation", "medias", 12, "2025-03-10"),
    ("MED-05", "Journal des Étangs", "organisation", "medias", 4, "2025-04-01"),
    ("ENT-01", "Nuage Occitan SAS", "organisation", "entreprises", 140, "2025-01-20"),
    ("ENT-02", "Data Tramontane", "organisation", "entreprises", 22, "2025-02-15"),
    ("ENT-03", "Jeux de Mistral", "organisation", "entreprises", 300, "2025-05-05"),
    ("REC-01", "Laboratoire Usages & Médias", "organisation", "recherche", 45, "2025-03-01"),
    ("PUB-01", "Communauté d'agglomération du Delta", "organisation", "public", 900, "2025-01-20"),
    ("PUB-02", "Médiathèque intercommunale", "organisation", "public", 15, "2025-06-12"),
    ("IND-01", "Camille Vidal", "person", "entreprises", 1, "2025-09-01"),
]

_SCIC_MEMBERS = [
    ("SAL-01", "Inès Moreau", "person", "salaries", 1, "2025-03-01"),
    ("SAL-02", "Hugo Lefèvre", "person", "salaries", 1, "2025-03-01"),
    ("BEN-01", "Centre social des Chartrons", "organisation", "beneficiaires", 18, "2025-03-15"),
    ("BEN-02", "EHPAD Les Tilleuls", "organisation", "beneficiaires", 70, "2025-04-02"),
    ("BEN-03", "Lucie Garnier", "person", "beneficiaires", 1, "2025-05-20"),
    ("PAR-01", "Commune de Saint-Aubin", "organisation", "partenaires", 40, "2025-03-15"),
    ("PAR-02", "Fondation Lien Numérique", "organisation", "partenaires", 6, "2025-06-30"),
]


_FINANCIAL = {"CallFee", "PayFee", "SubscribeShares", "RedeemShares", "ReverseEntry", "RecordEntry"}


Add = Callable[..., None]


def demo_commands() -> list[dict[str, Any]]:
    """The demo as JSON commands, the same form `coopledger record` reads."""
    commands: list[dict[str, Any]] = []

    def add(command: str, /, **fields: Any) -> None:
        commands.append({"command": command, "idempotency_key": f"demo-{len(commands) + 1:04d}", "actor": "demo", **fields})

    _found_cluster(add)
    _cluster_fees_2025(add, commands)
    _cluster_books_2025(add)
    _cluster_2026(add)
    _found_scic(add)
    _scic_2026(add)
    # The activity families: income, funds, units, then donations, crowdfunding and advertising.
    for family_demo in (demo_income, demo_funds, demo_units, demo_donations):
        family_demo.commands(add, cluster=CLUSTER, scic=SCIC)
    demo_sepa.commands(add, scic=SCIC)  # the SCIC's 2026 fees still due, by SEPA direct debit (not yet collected)
    # The cluster shows its indicators to anyone; the SCIC keeps its observatory behind a key.
    add("SetObservatoryVisibility", coop=CLUSTER, public=True, effective_date="2025-01-15")
    demo_bank.setup_commands(add, cluster=CLUSTER)  # the statements themselves are read from files: cli/bank.py
    demo_federation.commands(add)  # three regional associations federate into one cluster
    return commands


def _found_cluster(add: Add) -> None:
    """The cluster's statutes (colleges 40/20/20/20, fees by headcount) and its members."""
    add(
        "FoundCooperative",
        coop=CLUSTER,
        name="Cluster Numérique Sud",
        legal_form="association",
        founded_on="2025-01-15",
        siren="912345675",
        colleges=[
            {"code": "medias", "name": "Médias", "weight": "40"},
            {"code": "entreprises", "name": "Entreprises associées", "weight": "20"},
            {"code": "recherche", "name": "Enseignement supérieur & recherche", "weight": "20"},
            {"code": "public", "name": "Acteurs publics", "weight": "20"},
        ],
        fee_schedule=[
            {"min_headcount": 1, "max_headcount": 9, "amount": "100"},
            {"min_headcount": 10, "max_headcount": 49, "amount": "300"},
            {"min_headcount": 50, "max_headcount": 249, "amount": "800"},
            {"min_headcount": 250, "max_headcount": None, "amount": "1500"},
        ],
    )
    for member_id, name, kind, college, headcount, admitted_on in _CLUSTER_MEMBERS:
        add(
            "AdmitMember",
            coop=CLUSTER,
            member_id=member_id,
            name=name,
            kind=kind,
            college=college,
            headcount=headcount,
            effective_date=admitted_on,
        )


def _cluster_fees_2025(add: Add, commands: list[dict[str, Any]]) -> None:
    """2025 fees called and paid: most pay in full, two in instalments, one never pays; one
    payment keyed in twice, then reversed (`commands`, so far, numbers the duplicate's entry)."""
    for member_id, *_rest, admitted_on in _CLUSTER_MEMBERS:
        add("CallFee", coop=CLUSTER, member_id=member_id, year=2025, effective_date=max(admitted_on, "2025-02-01"))
    fees_2025 = {
        "MED-01": "300",
        "MED-02": "100",
        "MED-03": "800",
        "MED-04": "300",
        "ENT-01": "800",
        "ENT-02": "300",
        "ENT-03": "1500",
        "REC-01": "300",
        "PUB-01": "1500",
        "IND-01": "100",
    }
    admitted = {m[0]: m[5] for m in _CLUSTER_MEMBERS}
    for i, (member_id, amount) in enumerate(sorted(fees_2025.items())):
        add(
            "PayFee",
            coop=CLUSTER,
            member_id=member_id,
            year=2025,
            amount=amount,
            effective_date=max(f"2025-{3 + i % 9:02d}-{10 + i:02d}", admitted[member_id]),
        )
    add("PayFee", coop=CLUSTER, member_id="MED-05", year=2025, amount="40", effective_date="2025-05-02")
    add("PayFee", coop=CLUSTER, member_id="MED-05", year=2025, amount="60", effective_date="2025-09-14")
    # A payment keyed in twice by mistake, then reversed: the journal keeps both and the fix.
    add("PayFee", coop=CLUSTER, member_id="PUB-02", year=2025, amount="150", effective_date="2025-07-01")
    add("PayFee", coop=CLUSTER, member_id="PUB-02", year=2025, amount="150", effective_date="2025-07-01")
    duplicate_entry = sum(1 for c in commands if c["coop"] == CLUSTER and c["command"] in _FINANCIAL)
    add(
        "ReverseEntry",
        coop=CLUSTER,
        entry_number=duplicate_entry,
        reason="Règlement saisi deux fois (relevé bancaire de juillet)",
        effective_date="2025-07-31",
    )


def _cluster_books_2025(add: Add) -> None:
    """An account of its own and two entries keyed in by hand: a study bought, bank charges."""
    add(
        "AddAccount",
        coop=CLUSTER,
        number="7068",
        label_fr="Autres prestations de services",
        label_en="Other services",
        effective_date="2025-09-01",
    )
    add(
        "RecordEntry",
        coop=CLUSTER,
        label="Étude des usages des médias locaux",
        piece_ref="F-2025-0042",
        effective_date="2025-10-15",
        lines=[{"account": "604", "debit": "2400"}, {"account": "512", "credit": "2400"}],
    )
    add(
        "RecordEntry",
        coop=CLUSTER,
        label="Frais de tenue de compte 2025",
        piece_ref="RB-2025-12",
        effective_date="2025-12-31",
        lines=[{"account": "627", "debit": "96.60"}, {"account": "512", "credit": "96.60"}],
    )


def _cluster_2026(add: Add) -> None:
    """A transfer and a resignation, the 2026 fees, and the general assembly of 30 June 2026."""
    add("TransferMember", coop=CLUSTER, member_id="MED-04", college="entreprises", effective_date="2026-01-01")
    add("ResignMember", coop=CLUSTER, member_id="ENT-02", effective_date="2025-12-31")
    for member_id, *_rest in _CLUSTER_MEMBERS:
        if member_id != "ENT-02":
            add("CallFee", coop=CLUSTER, member_id=member_id, year=2026, effective_date="2026-01-15")
    for member_id, amount, day in [
        ("MED-01", "300", "2026-02-03"),
        ("MED-03", "800", "2026-02-20"),
        ("ENT-01", "800", "2026-03-02"),
        ("PUB-01", "1500", "2026-04-15"),
        ("REC-01", "150", "2026-05-11"),
        ("ENT-03", "1500", "2026-06-30"),
    ]:
        add("PayFee", coop=CLUSTER, member_id=member_id, year=2026, amount=amount, effective_date=day)
    # General assembly of 30 June 2026: only members whose 2026 fee is paid by then may vote.
    add(
        "RecordResolution",
        coop=CLUSTER,
        resolution_id="AG-2026-01",
        title="Approbation des comptes 2025",
        assembly="ordinary",
        vote_date="2026-06-30",
    )
    for member_id, choice in [
        ("MED-01", "for"),
        ("MED-03", "against"),
        ("ENT-01", "for"),
        ("ENT-03", "for"),
        ("PUB-01", "abstain"),
    ]:
        add("CastVote", coop=CLUSTER, resolution_id="AG-2026-01", member_id=member_id, choice=choice)


def _found_scic(add: Add) -> None:
    """The SCIC's statutes (shares of 50 EUR), its members, their shares and their 2025 fees."""
    add(
        "FoundCooperative",
        coop=SCIC,
        name="MedNum Gironde SCIC",
        legal_form="scic",
        founded_on="2025-02-20",
        siren="923456784",
        share_value="50",
        colleges=[
            {"code": "salaries", "name": "Salariés", "weight": "40"},
            {"code": "beneficiaires", "name": "Bénéficiaires", "weight": "30"},
            {"code": "partenaires", "name": "Partenaires et collectivités", "weight": "30"},
        ],
        fee_schedule=[
            {"min_headcount": 1, "max_headcount": 1, "amount": "20"},
            {"min_headcount": 2, "max_headcount": 49, "amount": "150"},
            {"min_headcount": 50, "max_headcount": None, "amount": "400"},
        ],
    )
    for member_id, name, kind, college, headcount, admitted_on in _SCIC_MEMBERS:
        add(
            "AdmitMember",
            coop=SCIC,
            member_id=member_id,
            name=name,
            kind=kind,
            college=college,
            headcount=headcount,
            effective_date=admitted_on,
        )
    for (member_id, *_rest, admitted_on), shares in zip(_SCIC_MEMBERS, [20, 10, 4, 10, 1, 40, 6], strict=True):
        add("SubscribeShares", coop=SCIC, member_id=member_id, shares=shares, effective_date=admitted_on)
    for member_id, *_rest, admitted_on in _SCIC_MEMBERS:
        add("CallFee", coop=SCIC, member_id=member_id, year=2025, effective_date=admitted_on)
        if member_id != "BEN-03":
            amount = {"SAL-01": "20", "SAL-02": "20", "BEN-01": "150", "BEN-02": "400", "PAR-01": "150", "PAR-02": "150"}[
                member_id
            ]
            add("PayFee", coop=SCIC, member_id=member_id, year=2025, amount=amount, effective_date="2025-10-01")


def _scic_2026(add: Add) -> None:
    """Statutes amended and a stricter voting policy, the 2026 fees, a resignation and its shares redeemed."""
    add(
        "AmendStatutes",
        coop=SCIC,
        effective_date="2026-01-01",
        reason="AGE du 10 décembre 2025 : rééquilibrage des collèges",
        colleges=[
            {"code": "salaries", "name": "Salariés", "weight": "30"},
            {"code": "beneficiaires", "name": "Bénéficiaires", "weight": "35"},
            {"code": "partenaires", "name": "Partenaires et collectivités", "weight": "35"},
        ],
    )
    add("SetVotingPolicy", coop=SCIC, effective_date="2026-01-01", require_fee_paid=True, min_shares=1)
    for member_id, *_rest in _SCIC_MEMBERS:
        add("CallFee", coop=SCIC, member_id=member_id, year=2026, effective_date="2026-01-20")
    for member_id, amount, day in [
        ("SAL-01", "20", "2026-01-31"),
        ("BEN-01", "150", "2026-02-12"),
        ("BEN-02", "400", "2026-03-05"),
        ("PAR-01", "150", "2026-02-27"),
    ]:
        add("PayFee", coop=SCIC, member_id=member_id, year=2026, amount=amount, effective_date=day)
    add("ResignMember", coop=SCIC, member_id="SAL-02", effective_date="2026-03-31")
    add("RedeemShares", coop=SCIC, member_id="SAL-02", shares=10, effective_date="2026-04-30")
