"""Demo commands for the income families: subscriptions, certifications (and labels), training levies.
`add(command, **fields)` appends one command with a fixed idempotency key (see ledger/demo.py).

The cluster runs a platform of digital service providers: providers pay a fixed part per
period plus a share of the revenue they declare, project holders a flat yearly subscription,
and providers can be certified (450 EUR for 24 months). The SCIC labels digital-mediation
places (12 months, renewed) and runs a training platform that keeps a levy on each course.
"""

from __future__ import annotations

from collections.abc import Callable


def commands(add: Callable[..., None], *, cluster: str, scic: str) -> None:
    _cluster_subscriptions(add, cluster)
    _cluster_subscription_bills(add, cluster)
    _cluster_certifications(add, cluster)
    _scic_labels(add, scic)
    _scic_training(add, scic)


def _cluster_subscriptions(add: Callable[..., None], coop: str) -> None:
    """The platform's three plans, and five members subscribing to them."""
    for plan_id, name, kind, period, fixed, rate in [
        ("PREST-M", "Prestataire mensuel", "provider", "monthly", "49", "0.03"),
        ("PREST-T", "Prestataire trimestriel", "provider", "quarterly", "135", "0.025"),
        ("PORTEUR-A", "Porteur de projet annuel", "project_holder", "yearly", "240", "0"),
    ]:
        add(
            "DefineSubscriptionPlan",
            coop=coop,
            plan_id=plan_id,
            name=name,
            kind=kind,
            period=period,
            fixed_amount=fixed,
            revenue_rate=rate,
            effective_date="2025-03-01",
        )
    for sub_id, member_id, plan_id, start in [
        ("SUB-ENT01", "ENT-01", "PREST-T", "2025-04-01"),
        ("SUB-ENT02", "ENT-02", "PREST-M", "2025-03-01"),
        ("SUB-ENT03", "ENT-03", "PREST-M", "2025-06-01"),
        ("SUB-REC01", "REC-01", "PORTEUR-A", "2025-03-01"),
        ("SUB-MED05", "MED-05", "PORTEUR-A", "2025-04-01"),
    ]:
        add("StartSubscription", coop=coop, subscription_id=sub_id, member_id=member_id, plan_id=plan_id, effective_date=start)


def _cluster_subscription_bills(add: Callable[..., None], coop: str) -> None:
    """The subscriptions' bills, one cancellation and the payments (some partial, some missing)."""
    # Provider bills: fixed part + revenue share, billed once the period's revenue is declared.
    # 2025-Q3: 2.5% of 21,250.40 = 531.26; 2026-Q1: 2.5% of 24,310.10 = 607.7525 -> 607.75;
    # 2025-07: 3% of 4,150.50 = 124.515 -> 124.52 (halves rounded up); 2025-08: no revenue, fixed part only.
    bills = [
        ("SUB-ENT01", "2025-Q2", "18400", "2025-07-05"),
        ("SUB-ENT01", "2025-Q3", "21250.40", "2025-10-06"),
        ("SUB-ENT01", "2025-Q4", "15980", "2026-01-08"),
        ("SUB-ENT01", "2026-Q1", "24310.10", "2026-04-07"),
        ("SUB-ENT02", "2025-03", "1820", "2025-04-03"),
        ("SUB-ENT02", "2025-04", "2045.75", "2025-05-05"),
        ("SUB-ENT02", "2025-05", "990", "2025-06-04"),
        ("SUB-ENT03", "2025-06", "3200", "2025-07-03"),
        ("SUB-ENT03", "2025-07", "4150.50", "2025-08-04"),
        ("SUB-ENT03", "2025-08", "0", "2025-09-02"),
        ("SUB-ENT03", "2025-09", "2780", "2025-10-02"),
    ]
    for sub_id, period, revenue, day in bills:
        add("BillSubscription", coop=coop, subscription_id=sub_id, period=period, declared_revenue=revenue, effective_date=day)
    add(
        "CancelSubscription",
        coop=coop,
        subscription_id="SUB-ENT02",
        effective_date="2025-06-01",
        reason="Fin de l'activité de prestataire sur la plateforme",
    )
    # Project holders: a flat yearly subscription, billable from the first day of the year.
    for sub_id, period, day in [
        ("SUB-REC01", "2025", "2025-03-15"),
        ("SUB-MED05", "2025", "2025-04-10"),
        ("SUB-REC01", "2026", "2026-01-10"),
    ]:
        add("BillSubscription", coop=coop, subscription_id=sub_id, period=period, effective_date=day)
    for sub_id, period, amount, day in [
        ("SUB-ENT01", "2025-Q2", "595", "2025-07-20"),
        ("SUB-ENT01", "2025-Q3", "666.26", "2025-10-30"),
        ("SUB-ENT01", "2025-Q4", "300", "2026-02-02"),
        ("SUB-ENT01", "2025-Q4", "234.50", "2026-03-02"),
        ("SUB-ENT02", "2025-03", "103.60", "2025-04-20"),
        ("SUB-ENT02", "2025-04", "110.37", "2025-05-20"),
        ("SUB-ENT02", "2025-05", "78.70", "2025-06-20"),
        ("SUB-ENT03", "2025-06", "145", "2025-07-15"),
        ("SUB-ENT03", "2025-07", "173.52", "2025-08-18"),
        ("SUB-REC01", "2025", "240", "2025-04-02"),
        ("SUB-MED05", "2025", "120", "2025-05-02"),
        ("SUB-REC01", "2026", "240", "2026-02-15"),
    ]:
        add("PaySubscription", coop=coop, subscription_id=sub_id, period=period, amount=amount, effective_date=day)


def _cluster_certifications(add: Callable[..., None], coop: str) -> None:
    add("SetCertificationTerms", coop=coop, fee="450", validity_months=24, renewal_window_days=90, effective_date="2025-02-01")
    for cert_id, member_id, day in [
        ("CERT-2025-001", "ENT-01", "2025-03-15"),
        ("CERT-2025-002", "ENT-02", "2025-03-20"),
        ("CERT-2025-003", "MED-04", "2025-05-02"),
        ("CERT-2025-004", "ENT-03", "2025-06-16"),
    ]:
        add("GrantCertification", coop=coop, certification_id=cert_id, member_id=member_id, effective_date=day)
    for cert_id, amount, day in [
        ("CERT-2025-001", "450", "2025-04-10"),
        ("CERT-2025-002", "450", "2025-04-15"),
        ("CERT-2025-003", "200", "2025-06-01"),
        ("CERT-2025-004", "450", "2025-07-01"),
    ]:
        add("PayCertificationFee", coop=coop, certification_id=cert_id, amount=amount, effective_date=day)
    add(
        "RevokeCertification",
        coop=coop,
        certification_id="CERT-2025-002",
        effective_date="2025-12-31",
        reason="Démission du cluster au 31 décembre 2025",
    )


def _scic_labels(add: Callable[..., None], coop: str) -> None:
    add("SetCertificationTerms", coop=coop, fee="150", validity_months=12, renewal_window_days=60, effective_date="2025-03-01")
    for cert_id, member_id, day in [
        ("LAB-BEN01", "BEN-01", "2025-04-01"),
        ("LAB-PAR01", "PAR-01", "2025-05-01"),
        ("LAB-BEN02", "BEN-02", "2025-06-02"),
    ]:
        add("GrantCertification", coop=coop, certification_id=cert_id, member_id=member_id, effective_date=day)
    add("PayCertificationFee", coop=coop, certification_id="LAB-BEN01", amount="150", effective_date="2025-04-20")
    add("PayCertificationFee", coop=coop, certification_id="LAB-PAR01", amount="150", effective_date="2025-05-30")
    add("SetCertificationTerms", coop=coop, fee="180", validity_months=12, renewal_window_days=60, effective_date="2026-01-01")
    add(
        "RevokeCertification",
        coop=coop,
        certification_id="LAB-BEN02",
        effective_date="2026-02-15",
        reason="Plus d'ateliers ouverts au public depuis janvier 2026",
    )
    # Renewed inside its window (from 2026-01-31), at the 2026 fee: valid until 2027-03-31.
    add("RenewCertification", coop=coop, certification_id="LAB-BEN01", effective_date="2026-03-10")
    add("PayCertificationFee", coop=coop, certification_id="LAB-BEN01", amount="180", effective_date="2026-03-31")
    # LAB-PAR01 is not renewed: it lapses on 2026-05-01.


def _scic_training(add: Callable[..., None], coop: str) -> None:
    add(
        "DeclareCourse",
        coop=coop,
        course_id="FORM-DEM",
        title="Accompagner les démarches administratives en ligne",
        author_id="SAL-01",
        levy_rate="0.20",
        effective_date="2025-04-01",
    )
    add(
        "DeclareCourse",
        coop=coop,
        course_id="FORM-CYBER",
        title="Cybersécurité pour les seniors",
        author_id="PAR-02",
        levy_rate="0.15",
        effective_date="2025-07-01",
    )
    # 15% of 35.50 = 5.325 -> levy 5.33, author 30.17; 15% of 29.90 = 4.485 -> 4.49, author 25.41.
    for i, (course_id, amount, day) in enumerate(
        [
            ("FORM-DEM", "45", "2025-04-15"),
            ("FORM-DEM", "45", "2025-05-06"),
            ("FORM-DEM", "60", "2025-06-10"),
            ("FORM-CYBER", "35.50", "2025-07-08"),
            ("FORM-CYBER", "45", "2025-09-16"),
            ("FORM-DEM", "45", "2025-09-23"),
            ("FORM-DEM", "90", "2025-10-14"),
            ("FORM-CYBER", "29.90", "2025-11-04"),
            ("FORM-DEM", "60", "2026-02-03"),
            ("FORM-CYBER", "35.50", "2026-03-03"),
        ],
        start=1,
    ):
        add(
            "CollectCourseContribution",
            coop=coop,
            course_id=course_id,
            participant_ref=f"INS-{day[:4]}-{i:03d}",
            amount=amount,
            effective_date=day,
        )
    # SAL-01 earned 36 + 36 + 48 + 36 + 72 = 228.00 by then; PAR-02 30.17 + 38.25 + 25.41 = 93.83.
    add("PayAuthor", coop=coop, author_id="SAL-01", amount="228", effective_date="2025-12-15")
    add("PayAuthor", coop=coop, author_id="PAR-02", amount="90", effective_date="2026-01-15")
