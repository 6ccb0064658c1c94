"""Demo commands for donations, crowdfunding and advertising, in the cluster (an
association: dons manuels 7541, mécénats 7542, fonds dédiés 196). `add(command, **fields)`
appends one command with a fixed idempotency key (see ledger/demo.py). Every date is in 2026,
after the demo's other families, so a closed 2025 never refuses them.

Figures worked out by hand (EUR):
- Individual gifts: Jeanne Roux 120 + 80, Marc Delmas 60 (cheque), Sofia Benali 40 (cash).
- Imprimerie du Midi (mécénat) 3,000 for project "podcasts-occitan"; 1,250 used on it.
- Fondation Littoral Numérique 5,000 for the call AAP-MEDIAS-2025 (demo_funds); 2,000 used on
  the call's jury and the laureates' coaching.
- Ulule campaign "Studio mobile des médias locaux": 12,450.00 collected, fee 8% = 996.00, net
  11,454.00; four backers itemised (250 + 150 + 100 + 75 = 575), 11,875 anonymous; 9,000 spent
  on the studio's equipment, 2,454 still dedicated.
- 2026 receipts list: Jeanne Roux 450 (200 + 250 through Ulule), Marc Delmas 135 (60 + 75),
  Sofia Benali 40, Luis Garcia 150, Ana Moulin 100, Imprimerie du Midi 3,000, Fondation Littoral
  Numérique 5,000; anonymous 11,875; total 20,750 = 7541 (12,750) + 7542 (8,000).
- Tax receipts: the cluster (an association of general interest) declares itself eligible from
  1 January 2026, then issues the 2026 receipts on 30 November 2026: one per named donor, 2026-0001
  to 2026-0007 (Jeanne Roux 450 under art. 200 ... Imprimerie du Midi 3,000 under art. 238 bis),
  8,875 in all; the Ulule campaign's 11,875 anonymous get none.
- Advertising: Bpifrance 450 a month, March to August 2026, March to June invoiced (1,800), paid
  450 × 3 + 200; Crédit Coopératif 1,200 a quarter, Q2 to Q4, Q2 and Q3 invoiced and Q2 paid;
  an incubator's banner 300 a month for April and May, ended after April. Invoiced 4,500.
"""

from __future__ import annotations

from collections.abc import Callable

Add = Callable[..., None]
STUDIO, PODCASTS, CALL = "studio-mobile", "podcasts-occitan", "AAP-MEDIAS-2025"


def commands(add: Add, *, cluster: str, scic: str) -> None:
    _donations(add, cluster)
    _crowdfunding(add, cluster)
    _tax_receipts(add, cluster)
    _advertising_contracts(add, cluster)
    _advertising_billing(add, cluster)


def _donations(add: Add, coop: str) -> None:
    for gift_id, donor_id, name, amount, method, day, address in [
        ("DON-2026-001", "DO-001", "Jeanne Roux", "120", "transfer", "2026-01-12", "4 rue du Port, 34200 Sète"),
        ("DON-2026-002", "DO-002", "Marc Delmas", "60", "cheque", "2026-02-03", "12 avenue Foch, 30000 Nîmes"),
        ("DON-2026-003", "DO-003", "Sofia Benali", "40", "cash", "2026-03-21", None),
        ("DON-2026-004", "DO-001", "Jeanne Roux", "80", "card", "2026-09-15", None),
    ]:
        fields = {"donor_address": address} if address else {}
        add(
            "RecordDonation",
            coop=coop,
            donation_id=gift_id,
            donor_id=donor_id,
            donor_name=name,
            donor_kind="individual",
            amount=amount,
            method=method,
            effective_date=day,
            **fields,
        )
    add(
        "RecordDonation",
        coop=coop,
        donation_id="MEC-2026-001",
        donor_id="imprimerie-midi",
        donor_name="Imprimerie du Midi SARL",
        donor_kind="company",
        donor_address="ZA des Garrigues, 34170 Castelnau-le-Lez",
        amount="3000",
        project=PODCASTS,
        piece_ref="CONV-MEC-2026-01",
        effective_date="2026-02-16",
    )
    add(
        "RecordDonation",
        coop=coop,
        donation_id="MEC-2026-002",
        donor_id="fondation-littoral",
        donor_name="Fondation Littoral Numérique",
        donor_kind="company",
        amount="5000",
        call_id=CALL,
        piece_ref="CONV-MEC-2026-02",
        effective_date="2026-03-02",
    )
    add(
        "UseEarmarkedDonation",
        coop=coop,
        donation_id="MEC-2026-001",
        amount="1250",
        project=PODCASTS,
        label="Enregistrement des podcasts bilingues : location de studio",
        piece_ref="F-STUDIO-2026-031",
        effective_date="2026-04-30",
    )
    add(
        "UseEarmarkedDonation",
        coop=coop,
        donation_id="MEC-2026-002",
        amount="2000",
        call_id=CALL,
        label="Jury de l'appel à projets et accompagnement des lauréats",
        piece_ref="F-JURY-2026-07",
        effective_date="2026-05-20",
    )


def _crowdfunding(add: Add, coop: str) -> None:
    add(
        "RecordCrowdfundingPayout",
        coop=coop,
        payout_id="ULULE-STUDIO-2026",
        platform="Ulule",
        campaign="Studio mobile des médias locaux",
        gross="12450",
        fee="996",
        project=STUDIO,
        piece_ref="ULULE-VIR-2026-06",
        effective_date="2026-06-05",
        backers=[
            {"donor_id": "DO-001", "donor_name": "Jeanne Roux", "amount": "250"},
            {
                "donor_id": "DO-004",
                "donor_name": "Luis Garcia",
                "amount": "150",
                "donor_address": "3 place de la Comédie, 34000 Montpellier",
            },
            {"donor_id": "DO-005", "donor_name": "Ana Moulin", "amount": "100"},
            {"donor_id": "DO-002", "donor_name": "Marc Delmas", "amount": "75"},
        ],
    )
    add(
        "UseEarmarkedDonation",
        coop=coop,
        donation_id="ULULE-STUDIO-2026",
        amount="9000",
        project=STUDIO,
        label="Équipement du studio mobile (caméras, micros, valises)",
        piece_ref="F-EQUIP-2026-112",
        effective_date="2026-07-10",
    )


def _tax_receipts(add: Add, coop: str) -> None:
    """The association declares its eligibility (an organisme d'intérêt général), then issues the
    year's receipts: one per donor, numbered 2026-0001..."""
    add(
        "DeclareReceiptEligibility",
        coop=coop,
        eligible=True,
        basis="general_interest",
        mission="Fédérer et accompagner les médias, entreprises et acteurs publics du numérique en Occitanie",
        address="Hôtel d'entreprises Cap Omega, rond-point Benjamin Franklin, 34000 Montpellier",
        place="Montpellier",
        effective_date="2026-01-01",
    )
    add("IssueTaxReceipts", coop=coop, year=2026, issued_on="2026-11-30")


def _advertising_contracts(add: Add, coop: str) -> None:
    """Three advertisers sign: a bank monthly, a bank quarterly, an incubator for two months."""
    add(
        "SignAdvertisingContract",
        coop=coop,
        contract_id="PUB-BPI-2026",
        advertiser_id="bpifrance",
        advertiser_name="Bpifrance",
        advertiser_kind="bank",
        placement="Bandeau « Financer votre projet innovant » sur la place de marché",
        price_per_period="450",
        starts_on="2026-03-01",
        ends_on="2026-08-31",
        effective_date="2026-02-20",
    )
    add(
        "SignAdvertisingContract",
        coop=coop,
        contract_id="PUB-CCOOP-2026",
        advertiser_id="credit-cooperatif",
        advertiser_name="Crédit Coopératif",
        advertiser_kind="bank",
        placement="Encart Innov&Plus dans la lettre des porteurs de projets",
        price_per_period="1200",
        period="quarter",
        starts_on="2026-04-01",
        ends_on="2026-12-31",
        effective_date="2026-03-15",
    )
    add(
        "SignAdvertisingContract",
        coop=coop,
        contract_id="PUB-INCUB-2026",
        advertiser_id="incubateur-delta",
        advertiser_name="Incubateur du Delta",
        advertiser_kind="incubator",
        placement="Vignette page « Se faire accompagner »",
        price_per_period="300",
        starts_on="2026-04-01",
        ends_on="2026-05-31",
        effective_date="2026-03-25",
    )


def _advertising_billing(add: Add, coop: str) -> None:
    """The contracts' invoices and payments (some partly paid, some not at all), then the incubator's early end."""
    for period, day in [
        ("2026-03", "2026-03-02"),
        ("2026-04", "2026-04-01"),
        ("2026-05", "2026-05-04"),
        ("2026-06", "2026-06-01"),
    ]:
        add("InvoiceAdvertising", coop=coop, contract_id="PUB-BPI-2026", period=period, effective_date=day)
    for period, amount, day in [
        ("2026-03", "450", "2026-03-28"),
        ("2026-04", "450", "2026-04-27"),
        ("2026-05", "450", "2026-05-29"),
        ("2026-06", "200", "2026-06-30"),
    ]:
        add("PayAdvertisingInvoice", coop=coop, contract_id="PUB-BPI-2026", period=period, amount=amount, effective_date=day)
    for period, day in [("2026-Q2", "2026-04-01"), ("2026-Q3", "2026-07-01")]:
        add("InvoiceAdvertising", coop=coop, contract_id="PUB-CCOOP-2026", period=period, effective_date=day)
    add(
        "PayAdvertisingInvoice",
        coop=coop,
        contract_id="PUB-CCOOP-2026",
        period="2026-Q2",
        amount="1200",
        effective_date="2026-04-30",
    )
    add("InvoiceAdvertising", coop=coop, contract_id="PUB-INCUB-2026", period="2026-04", effective_date="2026-04-01")
    add(
        "EndAdvertisingContract",
        coop=coop,
        contract_id="PUB-INCUB-2026",
        ends_on="2026-04-30",
        reason="L'incubateur a rejoint le collège des partenaires : visibilité incluse",
        effective_date="2026-04-20",
    )
