"""Demo commands for the funds families: subsidies, calls for projects, the cooperation fund.
`add(command, **fields)` appends one command with a fixed idempotency key (see ledger/demo.py).

The cluster runs the Région's call for local-media projects (envelope 100,000 EUR, awards of
5,000 to 10,000 EUR, at most 20 laureates), paid as the Région's tranches come in; three
members pledged success contributions to the cooperation fund, whose first call is for
members only. The SCIC spends a 40,000 EUR grant of the Département on its workshops and on
a small call of its own (general plan: no fonds dédiés).

Figures worked out by hand (EUR):
- Région subsidy: 100,000 granted; 50,000 + 30,000 received; 12 awards = 96,000; first tranche
  50% = 48,000; one laureate withdraws its unpaid 3,000; second tranche 27,750 (cash left
  80,000 - 75,750 = 4,250); the last five balances (17,250) wait for the Région's last 20,000.
- Contributions 2025: 5% of 182,400.00 = 9,120.00; 3% of 1,254,321.37 = 37,629.6411, rounded
  down to 37,629.64; a loss of 12,500.00 calls nothing. Fund received 46,749.64.
- Fund call: envelope 40,000 (available 46,749.64); awards 24,500; paid 19,500; 5,000
  withdrawn; closing gives 20,500 back. Fund balance 27,249.64, all available.
- Département subsidy: 40,000 granted; 36,000 received; 27,000 used on workshops; micro-call
  awards 3,500, all paid; closing gives 4,500 back; unspent 9,500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Add = Callable[..., None]


def commands(add: Add, *, cluster: str, scic: str) -> None:
    _regional_call(add, cluster)
    _cooperation_fund(add, cluster)
    _scic_subsidy(add, scic)


def _regional_call(add: Add, coop: str) -> None:
    subsidy, call = "REG-OCC-AAP25", "AAP-MEDIAS-2025"
    add(
        "RecordSubsidy",
        coop=coop,
        subsidy_id=subsidy,
        funder="Région Occitanie",
        purpose="Appel à projets Médias de proximité 2025",
        amount="100000",
        effective_date="2025-03-14",
    )
    add(
        "OpenCall",
        coop=coop,
        call_id=call,
        title="Appel à projets Médias de proximité 2025",
        subsidy_id=subsidy,
        envelope="100000",
        min_award="5000",
        max_award="10000",
        max_laureates=20,
        effective_date="2025-04-01",
    )
    add("ReceiveSubsidy", coop=coop, subsidy_id=subsidy, amount="50000", effective_date="2025-04-30")
    applications = [
        # id, member or None, applicant (non-members), project, applied on, award or None
        ("AAP25-01", "MED-02", None, "Podcasts bilingues occitan-français", "2025-05-05", "10000"),
        ("AAP25-02", "MED-04", None, "Web-série sur les métiers de la mer", "2025-05-06", "10000"),
        ("AAP25-03", "MED-05", None, "Kiosque numérique des étangs", "2025-05-07", "8000"),
        ("AAP25-04", "ENT-02", None, "Tableau de bord des médias locaux", "2025-05-09", None),
        ("AAP25-05", "REC-01", None, "Baromètre des usages de l'information locale", "2025-05-12", "10000"),
        ("AAP25-06", "PUB-02", None, "Fonds sonore de la médiathèque en ligne", "2025-06-13", "6000"),
        ("AAP25-07", "MED-01", None, "Archives numérisées 1950-2000", "2025-05-14", "7500"),
        ("AAP25-08", None, "Collectif Ondes Libres", "Radio itinérante des villages", "2025-05-15", "10000"),
        ("AAP25-09", None, "Association Vidéo Garrigue", "Ateliers vidéo pour collégiens", "2025-05-19", "8000"),
        ("AAP25-10", None, "Podcast du Delta", "Série documentaire sur le Rhône", "2025-05-20", "8000"),
        ("AAP25-11", None, "Radio Campus Nîmes", "Matinale étudiante", "2025-05-22", "7500"),
        ("AAP25-12", None, "Le Fil des Étangs", "Lettre d'information des pêcheurs", "2025-05-26", None),
        ("AAP25-13", None, "Atelier Data Citoyenne", "Cartographie des déserts d'information", "2025-05-28", "5000"),
        ("AAP25-14", None, "Webradio Collège Camargue", "Webradio scolaire", "2025-05-30", "6000"),
    ]
    for app_id, member_id, applicant, project, day, _award in applications:
        fields: dict[str, Any] = {"member_id": member_id} if member_id else {"applicant": applicant}
        add("RecordApplication", coop=coop, call_id=call, application_id=app_id, project=project, effective_date=day, **fields)
    awarded = [(app_id, award) for app_id, *_rest, award in applications if award]
    for app_id, award in awarded:
        add("AwardGrant", coop=coop, application_id=app_id, amount=award, effective_date="2025-06-20")
    for app_id, award in awarded:  # first tranche: half of each award
        add("PayGrant", coop=coop, application_id=app_id, amount=str(int(award) // 2), effective_date="2025-07-15")
    add("ReceiveSubsidy", coop=coop, subsidy_id=subsidy, amount="30000", effective_date="2025-12-15")
    add(
        "WithdrawGrant",
        coop=coop,
        application_id="AAP25-14",
        reason="Projet abandonné : départ de l'enseignant référent",
        effective_date="2026-01-20",
    )
    for app_id, amount, day in [
        ("AAP25-01", "5000", "2026-02-10"),
        ("AAP25-02", "5000", "2026-02-10"),
        ("AAP25-05", "5000", "2026-02-24"),
        ("AAP25-08", "5000", "2026-03-03"),
        ("AAP25-03", "4000", "2026-03-03"),
        ("AAP25-07", "3750", "2026-03-17"),
    ]:
        add("PayGrant", coop=coop, application_id=app_id, amount=amount, effective_date=day)


def _cooperation_fund(add: Add, coop: str) -> None:
    for pledge_id, member_id, rate, years, day in [
        ("PL-ENT01", "ENT-01", "5", 3, "2025-02-01"),
        ("PL-MED03", "MED-03", "10", 2, "2025-03-01"),
        ("PL-ENT03", "ENT-03", "3", 3, "2025-05-15"),
    ]:
        add(
            "PledgeContribution",
            coop=coop,
            pledge_id=pledge_id,
            member_id=member_id,
            rate_percent=rate,
            first_year=2025,
            years=years,
            effective_date=day,
        )
    for pledge_id, result, day in [
        ("PL-ENT01", "182400.00", "2026-04-10"),
        ("PL-ENT03", "1254321.37", "2026-04-20"),
        ("PL-MED03", "-12500.00", "2026-04-25"),
    ]:
        add("DeclareContributionResult", coop=coop, pledge_id=pledge_id, year=2025, result=result, effective_date=day)
    for pledge_id, amount, day in [
        ("PL-ENT01", "9120", "2026-05-15"),
        ("PL-ENT03", "20000", "2026-05-20"),
        ("PL-ENT03", "17629.64", "2026-06-30"),
    ]:
        add("PayContribution", coop=coop, pledge_id=pledge_id, year=2025, amount=amount, effective_date=day)
    call = "FONDS-COOP-2026"
    add(
        "OpenCall",
        coop=coop,
        call_id=call,
        title="Fonds de coopération 2026 – projets entre membres",
        envelope="40000",
        min_award="5000",
        max_award="10000",
        max_laureates=5,
        members_only=True,
        effective_date="2026-07-01",
    )
    for app_id, member_id, project, day in [
        ("FC26-01", "MED-01", "Rédaction mutualisée des médias du littoral", "2026-07-06"),
        ("FC26-02", "MED-04", "Studio mobile partagé", "2026-07-08"),
        ("FC26-03", "REC-01", "Formation au data-journalisme des membres", "2026-07-10"),
        ("FC26-04", "PUB-02", "Fonds documentaire ouvert", "2026-07-15"),
        ("FC26-05", "IND-01", "Guide des outils libres pour petites rédactions", "2026-07-20"),
    ]:
        add(
            "RecordApplication",
            coop=coop,
            call_id=call,
            application_id=app_id,
            member_id=member_id,
            project=project,
            effective_date=day,
        )
    for app_id, amount in [("FC26-02", "10000"), ("FC26-03", "9500"), ("FC26-05", "5000")]:
        add("AwardGrant", coop=coop, application_id=app_id, amount=amount, effective_date="2026-09-15")
    for app_id, amount in [("FC26-05", "5000"), ("FC26-03", "9500"), ("FC26-02", "5000")]:
        add("PayGrant", coop=coop, application_id=app_id, amount=amount, effective_date="2026-10-01")
    add(
        "WithdrawGrant",
        coop=coop,
        application_id="FC26-02",
        reason="Studio réalisé pour moins que prévu",
        effective_date="2026-10-20",
    )
    add("CloseCall", coop=coop, call_id=call, effective_date="2026-10-31")


def _scic_subsidy(add: Add, coop: str) -> None:
    subsidy, call = "DEP33-MEDNUM", "MICRO-2026"
    add(
        "RecordSubsidy",
        coop=coop,
        subsidy_id=subsidy,
        funder="Département de la Gironde",
        purpose="Médiation numérique en EHPAD et centres sociaux 2025-2026",
        amount="40000",
        effective_date="2025-04-01",
    )
    add("ReceiveSubsidy", coop=coop, subsidy_id=subsidy, amount="24000", effective_date="2025-05-15")
    add(
        "UseSubsidy",
        coop=coop,
        subsidy_id=subsidy,
        amount="15000",
        label="Ateliers 2025 : temps des médiateurs et déplacements",
        piece_ref="BILAN-2025-DEP33",
        effective_date="2025-12-31",
    )
    add("ReceiveSubsidy", coop=coop, subsidy_id=subsidy, amount="12000", effective_date="2026-01-30")
    add(
        "OpenCall",
        coop=coop,
        call_id=call,
        title="Microprojets de médiation numérique 2026",
        subsidy_id=subsidy,
        envelope="8000",
        min_award="1000",
        max_award="2500",
        max_laureates=5,
        effective_date="2026-02-01",
    )
    for app_id, member_id, applicant, project, day in [
        ("MICRO-01", "BEN-01", None, "Café numérique du samedi", "2026-02-10"),
        ("MICRO-02", "BEN-03", None, "Initiation à la tablette pour les aînés", "2026-02-12"),
        ("MICRO-03", None, "Association Clic Solidaire", "Réparation d'ordinateurs donnés", "2026-02-15"),
    ]:
        fields: dict[str, Any] = {"member_id": member_id} if member_id else {"applicant": applicant}
        add("RecordApplication", coop=coop, call_id=call, application_id=app_id, project=project, effective_date=day, **fields)
    for app_id, amount in [("MICRO-01", "2000"), ("MICRO-03", "1500")]:
        add("AwardGrant", coop=coop, application_id=app_id, amount=amount, effective_date="2026-03-10")
        add("PayGrant", coop=coop, application_id=app_id, amount=amount, effective_date="2026-03-20")
    add("CloseCall", coop=coop, call_id=call, effective_date="2026-04-30")
    add(
        "UseSubsidy",
        coop=coop,
        subsidy_id=subsidy,
        amount="12000",
        label="Ateliers du premier semestre 2026",
        piece_ref="BILAN-S1-2026-DEP33",
        effective_date="2026-06-30",
    )
