"""The observatory's ten indicators in words: each one's title and definition, in French and in
English, as the observatory's JSON and page show them (projections/observatory_measures.py puts
them beside the figures). Kept apart from the figures: a definition is edited as text, and the
rule it states is in the code that computes it."""

from __future__ import annotations

EXPIRY_WINDOW_DAYS = 90  # here, not with the figures: the certifications indicator's definition quotes it

TEXT: dict[str, tuple[str, str, str, str]] = {  # id -> (title fr, title en, definition fr, definition en)
    "members": (
        "Membres par collège",
        "Members per college",
        "Membres admis et pas encore sortis (démission, exclusion) à la date, par collège ; « à jour » : leur cotisation "
        "de l'exercice en cours est entièrement payée à la date. Courbes : en fin de mois.",
        "Members admitted and not yet gone (resigned, excluded) on the day, per college; 'in good standing': their fee "
        "for the current fiscal year is fully paid by then. Charts: at each month's end.",
    ),
    "fees": (
        "Taux de recouvrement des cotisations",
        "Fee collection rate",
        "Cotisations payées ÷ cotisations appelées pour l'exercice en cours (celui de chaque mois sur la courbe), "
        "montants cumulés par date d'effet.",
        "Fees paid ÷ fees called for the current fiscal year (each month's own year on the chart), amounts summed by "
        "effective date.",
    ),
    "fund": (
        "Fonds de coopération",
        "Cooperation fund",
        "Solde : trésorerie du fonds (contributions reçues − aides versées). Engagé : aides attribuées non versées + "
        "enveloppes non attribuées des appels ouverts. Disponible : ce qu'un nouvel appel peut encore engager.",
        "Balance: the fund's cash (contributions received − grants paid). Committed: grants awarded not yet paid + "
        "unawarded envelopes of open calls. Available: what a new call may still commit.",
    ),
    "calls": (
        "Appels à projets",
        "Calls for projects",
        "Pour tous les appels (ouverts et clos) : enveloppe, attribué (net des retraits), versé, reste de l'enveloppe, "
        "lauréats. Courbes : attribué et versé cumulés, tous fonds confondus.",
        "Over every call (open and closed): envelope, awarded (net of withdrawals), paid, envelope remaining, laureates. "
        "Charts: awarded and paid to date, from every pot.",
    ),
    "subsidies": (
        "Subventions accordées et reçues",
        "Subsidies granted and received",
        "Subventions publiques accordées (notifiées) et versements reçus à la date, cumulés.",
        "Public subsidies granted (notified) and tranches received by the day, to date.",
    ),
    "certifications": (
        "Prestataires certifiés",
        "Certified providers",
        f"Prestataires dont la certification est valide à la date (ni expirée ni révoquée) ; parmi eux, ceux dont le "
        f"dernier jour de validité tombe dans les {EXPIRY_WINDOW_DAYS} jours.",
        f"Providers whose certification holds on the day (neither expired nor revoked); among them, those whose last "
        f"valid day falls within {EXPIRY_WINDOW_DAYS} days.",
    ),
    "subscriptions": (
        "Chiffre d'affaires des abonnements",
        "Subscription revenue",
        "Abonnements facturés (part fixe + part du chiffre d'affaires déclaré) et payés, par période facturée ; "
        "courbes : par mois de facturation et de paiement.",
        "Subscriptions billed (fixed part + share of declared revenue) and paid, per billed period; charts: per month "
        "billed and paid.",
    ),
    "sensors": (
        "Réseau de capteurs",
        "Sensor network",
        "Capteurs actifs (enregistrés, non retirés) ; relevés acceptés et crédits émis (par jour de mesure) ; crédits "
        "échangés contre services ou argent. Crédits en centièmes.",
        "Active sensors (registered, not retired); readings accepted and credits issued (by day measured); credits "
        "redeemed for services or money. Credits in hundredths.",
    ),
    "shared_hours": (
        "Heures partagées",
        "Shared hours",
        "Heures des salariés partagés déclarées et refacturées au coût, par structure membre (refacturations en vigueur).",
        "Shared employees' hours logged and rebilled at cost, per member structure (rebillings in force).",
    ),
    "governance": (
        "Poids des collèges",
        "College weights",
        "Poids statutaire de chaque collège et poids effectif aujourd'hui (un collège sans votant voit son poids réparti "
        "ou non attribué selon les statuts), en pourcentage des voix.",
        "Each college's statutory weight and its effective weight today (an empty college's weight is shared out or "
        "left unassigned, as the statutes say), as a percentage of the votes.",
    ),
}
