"""Charts of accounts: one default per legal form, labels in French and English.

Posting rules name *roles* (e.g. "fee_income"), never numbers: the same number means different
things in the association plan (ANC 2018-06) and the general plan (PCG) used by SCIC/SCOP/CAE,
e.g. 756 is "cotisations" for an association but exchange gains for a company.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from domain.errors import InvalidCommand, NotFound


class LegalForm(str, Enum):
    ASSOCIATION = "association"  # loi 1901: statutes decide everything on colleges
    SCIC = "scic"  # société coopérative d'intérêt collectif (loi 47-1775, art. 19 septies)
    SCOP = "scop"  # société coopérative de production
    CAE = "cae"  # coopérative d'activité et d'emploi

    @property
    def has_capital(self) -> bool:
        return self is not LegalForm.ASSOCIATION

    @property
    def uses_association_plan(self) -> bool:
        return self is LegalForm.ASSOCIATION


class AccountClass(str, Enum):
    """What the first digit of a French account number says about it."""

    EQUITY = "equity"  # 1
    FIXED_ASSETS = "fixed_assets"  # 2
    STOCKS = "stocks"  # 3
    THIRD_PARTIES = "third_parties"  # 4
    FINANCIAL = "financial"  # 5
    EXPENSES = "expenses"  # 6
    INCOME = "income"  # 7
    SPECIAL = "special"  # 8 (contributions volontaires en nature, hors bilan)


ACCOUNT_NUMBER = re.compile(r"^[1-8][0-9]{1,9}$")
# The FEC's CompteNum starts with 3 digits: a shorter number is written padded with zeros on the
# right (74 -> 740). Two numbers that pad alike would merge in the file, so a chart never holds both.
FEC_DIGITS = 3


@dataclass(frozen=True)
class Account:
    number: str
    label_fr: str
    label_en: str

    @property
    def account_class(self) -> AccountClass:
        return list(AccountClass)[int(self.number[0]) - 1]


def check_account_number(number: str, field: str) -> str:
    if not isinstance(number, str) or not ACCOUNT_NUMBER.match(number):
        raise InvalidCommand(
            field, "account_number", f"{number!r} is not a French account number (2 to 10 digits, first digit 1 to 8)"
        )
    return number


def fec_account_number(number: str) -> str:
    """The number as the FEC writes it: `74` -> `740`, `512` and `4191` unchanged."""
    return number.ljust(FEC_DIGITS, "0")


# Accounts both plans share with the same meaning.
_COMMON = [
    ("1013", "Capital souscrit – appelé, versé", "Subscribed capital – called, paid"),
    ("1063", "Réserves statutaires", "Statutory reserves"),
    ("1068", "Réserves pour projet", "Reserves for projects"),
    ("120", "Résultat de l'exercice (excédent)", "Result for the year (surplus)"),
    ("129", "Résultat de l'exercice (déficit)", "Result for the year (deficit)"),
    ("401", "Fournisseurs", "Suppliers"),
    ("411", "Usagers, adhérents", "Customers, members"),
    ("4191", "Avances et acomptes reçus", "Advances received"),
    ("421", "Personnel – rémunérations dues", "Staff – wages payable"),
    ("431", "Sécurité sociale", "Social security"),
    ("441", "État et collectivités – subventions à recevoir", "State and local bodies – grants receivable"),
    ("4561", "Associés – comptes d'apport", "Associates – contribution accounts"),
    ("4567", "Associés – capital à rembourser", "Associates – capital to repay"),
    ("4686", "Charges à payer", "Accrued expenses"),
    ("487", "Produits constatés d'avance", "Deferred income"),
    ("512", "Banque", "Bank"),
    ("530", "Caisse", "Cash"),
    ("580", "Virements internes", "Internal transfers"),
    ("604", "Achats d'études et prestations de services", "Purchased studies and services"),
    ("606", "Achats non stockés de matières et fournitures", "Non-stocked supplies"),
    ("613", "Locations", "Rentals"),
    ("622", "Rémunérations d'intermédiaires et honoraires", "Fees and intermediaries"),
    ("625", "Déplacements, missions et réceptions", "Travel and receptions"),
    ("626", "Frais postaux et de télécommunications", "Postage and telecommunications"),
    ("627", "Services bancaires et assimilés", "Bank charges"),
    ("6214", "Personnel détaché ou prêté à l'entité", "Seconded or lent staff"),
    ("641", "Rémunérations du personnel", "Staff wages"),
    ("645", "Charges de sécurité sociale et de prévoyance", "Social charges"),
    ("706", "Prestations de services", "Services rendered"),
    ("7084", "Mise à disposition de personnel facturée", "Staff lending billed"),
    ("741", "Subventions d'exploitation", "Operating grants"),
    ("768", "Autres produits financiers", "Other financial income"),
]

_ASSOCIATION = [
    ("102", "Fonds propres sans droit de reprise", "Own funds without right of recovery"),
    ("194", "Fonds dédiés sur subventions d'exploitation", "Dedicated funds from operating grants"),
    ("195", "Fonds dédiés sur contributions financières d'autres organismes", "Dedicated funds from other bodies"),
    ("196", "Fonds dédiés sur ressources liées à la générosité du public", "Dedicated funds from public generosity"),
    ("4672", "Créditeurs divers", "Sundry creditors"),
    ("6571", "Aides financières octroyées", "Financial aid granted"),
    ("6894", "Reports en fonds dédiés", "Transfers to dedicated funds"),
    ("7541", "Dons manuels", "Donations"),
    ("7561", "Cotisations sans contrepartie", "Membership fees without consideration"),
    ("7562", "Cotisations avec contrepartie", "Membership fees with consideration"),
    ("7894", "Utilisations des fonds dédiés", "Use of dedicated funds"),
]

_GENERAL = [
    ("467", "Autres comptes débiteurs ou créditeurs", "Other receivables and payables"),
    ("657", "Valeurs comptables des éléments d'actifs cédés", "Book value of assets sold"),
    ("756", "Gains de change sur opérations financières", "Exchange gains"),
    ("758", "Produits divers de gestion courante (cotisations)", "Other operating income (membership fees)"),
]

# Role -> account number, per plan. Posting rules use roles; a cooperative's chart maps them.
_ROLES_ASSOCIATION = {
    "bank": "512",
    "result_surplus": "120",  # the fiscal-year closing (domain/closing.py) carries a surplus here
    "result_deficit": "129",  # ... and a deficit here
    "members_receivable": "411",
    "fee_income": "7561",
    "capital": "1013",
    "capital_to_repay": "4567",
}
_ROLES_GENERAL = {
    "bank": "512",
    "result_surplus": "120",  # the fiscal-year closing (domain/closing.py) carries a surplus here
    "result_deficit": "129",  # ... and a deficit here
    "members_receivable": "411",
    "fee_income": "758",
    "capital": "1013",
    "capital_to_repay": "4567",
}


# Accounts and roles of the families beyond the base charts above, in groups: income
# (subscriptions, certifications, the platform levy), funds (contributions, the cooperation fund,
# grants, subsidies), units (sensor credits, shared-employee hours) and funding (donations,
# advertising). Each group adds its accounts and roles in its own section only, so a chart says
# which family needs which account.
# (rows: number, French label, English label; roles: role -> number, per plan)
_INCOME_COMMON: list[tuple[str, str, str]] = []  # subscriptions, certifications, platform levy
# Every account they need is in the base charts: 706 prestations de services (subscriptions,
# certification fees, the platform's levy) and the sundry creditors account holding each
# author's share until it is paid out (4672 in the association plan, 467 in the general plan).
_INCOME_ROLES_ASSOCIATION: dict[str, str] = {
    "subscription_income": "706",
    "certification_income": "706",
    "levy_income": "706",
    "authors_payable": "4672",
}
_INCOME_ROLES_GENERAL: dict[str, str] = {
    "subscription_income": "706",
    "certification_income": "706",
    "levy_income": "706",
    "authors_payable": "467",
}
_FUNDS_ASSOCIATION: list[tuple[str, str, str]] = [  # contributions, cooperation fund, grants, subsidies
    # ANC 2018-06: dedicated resources go to fonds dédiés through 689x and come back through 789x
    # (docs/decisions/0005). 194, 6894, 7894 and 6571 are in the base association chart.
    ("7551", "Contributions financières d'autres organismes", "Financial contributions from other bodies"),
    (
        "6895",
        "Reports en fonds dédiés sur contributions financières d'autres organismes",
        "Transfers to dedicated funds from other bodies' contributions",
    ),
    (
        "7895",
        "Utilisations des fonds dédiés sur contributions financières d'autres organismes",
        "Use of dedicated funds from other bodies' contributions",
    ),
]
_FUNDS_GENERAL: list[tuple[str, str, str]] = [
    # The general plan has no fonds dédiés: a dedicated resource is deferred income (487x)
    # until used, then income (7582, 741); grants awarded are other expenses (658x).
    ("4875", "Produits constatés d'avance – fonds de coopération", "Deferred income – cooperation fund"),
    ("4876", "Produits constatés d'avance – subventions affectées non utilisées", "Deferred income – unused earmarked grants"),
    ("6586", "Aides financières accordées (appels à projets)", "Financial aid granted (calls for projects)"),
    ("7582", "Libéralités reçues (contributions au fonds de coopération)", "Gifts received (cooperation fund contributions)"),
]
_FUNDS_ROLES_ASSOCIATION: dict[str, str] = {
    "cooperation_fund": "195",
    "fund_contribution_income": "7551",
    "fund_dedication": "6895",
    "fund_release": "7895",
    "subsidy_receivable": "441",
    "subsidy_income": "741",
    "subsidy_dedication": "6894",
    "subsidy_dedicated": "194",
    "subsidy_release": "7894",
    "grant_expense": "6571",
    "grants_payable": "4686",
}
_FUNDS_ROLES_GENERAL: dict[str, str] = {  # no *_income / *_dedication roles: nothing is carried to fonds dédiés
    "cooperation_fund": "4875",
    "fund_release": "7582",
    "subsidy_receivable": "441",
    "subsidy_dedicated": "4876",
    "subsidy_release": "741",
    "grant_expense": "6586",
    "grants_payable": "4686",
}
_UNITS_COMMON: list[tuple[str, str, str]] = [  # sensor credits (CREDIT), shared-employee hours (HOUR)
    # CREDIT and HOUR postings go only to class 8 memo accounts (docs/decisions/0006): the
    # same numbers in both plans, outside the balance sheet and the result.
    (
        "8018",
        "Engagements donnés – crédits de récompense dus aux hébergeurs de capteurs",
        "Commitments given – reward credits owed to sensor hosts",
    ),
    (
        "8091",
        "Contrepartie des engagements donnés (crédits de récompense)",
        "Contra account of commitments given (reward credits)",
    ),
    ("841", "Heures de personnel partagé à refacturer, par structure", "Shared-employee hours to rebill, per structure"),
    ("849", "Contrepartie des heures de personnel partagé", "Contra account of shared-employee hours"),
    # Euro side: credits paid out in money, and the shared employee rebilled to member structures.
    (
        "6588",
        "Autres charges diverses de gestion courante – récompenses des hébergeurs de capteurs",
        "Other operating expenses – sensor hosts' rewards",
    ),
    ("4118", "Usagers, adhérents – mise à disposition de personnel refacturée", "Members – staff lending rebilled"),
]
_UNITS_ROLES = {
    "sensor_credits_owed": "8018",
    "sensor_credits_contra": "8091",
    "sensor_rewards_expense": "6588",
    "shared_hours_to_rebill": "841",
    "shared_hours_contra": "849",
    "shared_rebill_receivable": "4118",
    "shared_rebill_income": "7084",
    "shared_wages": "641",
    "shared_social_charges": "645",
    "shared_expenses": "625",
    "shared_wages_payable": "421",
    "shared_social_payable": "431",
}
_UNITS_ROLES_ASSOCIATION: dict[str, str] = dict(_UNITS_ROLES)  # same numbers and meanings in both plans
_UNITS_ROLES_GENERAL: dict[str, str] = dict(_UNITS_ROLES)
# Funding: donations and crowdfunding, advertising (domain/donations.py, domain/advertising.py).
_FUNDING_COMMON: list[tuple[str, str, str]] = [
    ("4117", "Clients – annonceurs (régie publicitaire)", "Customers – advertisers"),
    ("7065", "Prestations de services – espaces publicitaires", "Services rendered – advertising placements"),
]
_FUNDING_ASSOCIATION: list[tuple[str, str, str]] = [  # ANC 2018-06: 754x générosité du public, 196 / 6896 / 7896
    ("7542", "Mécénats", "Corporate sponsorship"),
    (
        "6896",
        "Reports en fonds dédiés sur ressources liées à la générosité du public",
        "Transfers to dedicated funds from public generosity",
    ),
    (
        "7896",
        "Utilisations des fonds dédiés sur ressources liées à la générosité du public",
        "Use of dedicated funds from public generosity",
    ),
]
_FUNDING_GENERAL: list[tuple[str, str, str]] = [  # no fonds dédiés: an earmarked gift is deferred income (487x)
    ("4877", "Produits constatés d'avance – dons affectés non utilisés", "Deferred income – unused earmarked donations")
]
_FUNDING_ROLES = {"advertising_receivable": "4117", "advertising_income": "7065", "crowdfunding_fees": "622", "cash": "530"}
_FUNDING_ROLES_ASSOCIATION: dict[str, str] = {
    **_FUNDING_ROLES,
    "donation_income": "7541",
    "sponsorship_income": "7542",
    "donation_dedication": "6896",
    "donation_dedicated": "196",
    "donation_release": "7896",
}
_FUNDING_ROLES_GENERAL: dict[str, str] = {  # gifts to a company: 7582 libéralités reçues, when used if earmarked
    **_FUNDING_ROLES,
    "donation_income": "7582",
    "sponsorship_income": "7582",
    "donation_dedicated": "4877",
    "donation_release": "7582",
}


@dataclass(frozen=True)
class Chart:
    """A cooperative's chart: its accounts by number and the roles posting rules use."""

    accounts: dict[str, Account]
    roles: dict[str, str]

    def account(self, number: str, field: str = "account") -> Account:
        try:
            return self.accounts[number]
        except KeyError:
            raise NotFound(field, "known_account", f"account {number} is not in this cooperative's chart") from None

    def role(self, role: str) -> str:
        number = self.roles[role]
        assert number in self.accounts, f"role {role} maps to {number}, which is not in the chart"
        return number

    def padded_alike(self, number: str) -> str | None:
        """Another account of the chart the FEC would write as it writes `number` (58 and 580), or None."""
        padded = fec_account_number(number)
        return next((n for n in self.accounts if n != number and fec_account_number(n) == padded), None)

    def with_account(self, account: Account) -> Chart:
        return Chart(accounts={**self.accounts, account.number: account}, roles=self.roles)


def default_chart(legal_form: LegalForm) -> Chart:
    association = legal_form.uses_association_plan
    rows = _COMMON + _INCOME_COMMON + _UNITS_COMMON + _FUNDING_COMMON
    rows += (
        (_ASSOCIATION + _FUNDS_ASSOCIATION + _FUNDING_ASSOCIATION)
        if association
        else (_GENERAL + _FUNDS_GENERAL + _FUNDING_GENERAL)
    )
    accounts: dict[str, Account] = {}
    for number, fr, en in rows:
        assert number not in accounts, f"account {number} is defined twice"
        accounts[number] = Account(number, fr, en)
    if association:
        roles = {
            **_ROLES_ASSOCIATION,
            **_INCOME_ROLES_ASSOCIATION,
            **_FUNDS_ROLES_ASSOCIATION,
            **_UNITS_ROLES_ASSOCIATION,
            **_FUNDING_ROLES_ASSOCIATION,
        }
    else:
        roles = {
            **_ROLES_GENERAL,
            **_INCOME_ROLES_GENERAL,
            **_FUNDS_ROLES_GENERAL,
            **_UNITS_ROLES_GENERAL,
            **_FUNDING_ROLES_GENERAL,
        }
    chart = Chart(accounts=dict(sorted(accounts.items())), roles=dict(roles))
    for role in chart.roles:
        chart.role(role)  # asserts every role resolves
    return chart
