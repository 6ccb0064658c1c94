"""The eligibility rules' names and details in French or English, money by Babel.

The domain writes each detail in English from a fixed set of templates (domain/voting.py);
these patterns read them back so the CLI and the API can say them in the
reader's language without the domain knowing about languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from api.format import day, money

RULES = {
    "admitted": ("admission", "admitted"),
    "not_left": ("toujours membre", "still a member"),
    "fee_paid": ("cotisation payée", "fee paid"),
    "min_shares": ("parts minimales", "minimum shares"),
}
LEFT_AS_FR = {"resigned": "démission", "excluded": "exclusion", "federated": "fédéré", "transferred": "transfert"}


def rule_name(rule: str, lang: str) -> str:
    names = RULES.get(rule)
    return rule if names is None else names[0 if lang == "fr" else 1]


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


Render = Callable[[re.Match[str], str], str]
PATTERNS: list[tuple[re.Pattern[str], Render]] = [
    (
        re.compile(r"^admitted on (\d{4}-\d\d-\d\d)$"),
        lambda m, lang: f"admis le {day(m[1], lang)}" if lang == "fr" else f"admitted on {day(m[1], lang)}",
    ),
    (
        re.compile(r"^not admitted until (\d{4}-\d\d-\d\d)$"),
        lambda m, lang: f"admis seulement le {day(m[1], lang)}" if lang == "fr" else f"not admitted until {day(m[1], lang)}",
    ),
    (re.compile(r"^a member on that date$"), lambda m, lang: "membre à cette date" if lang == "fr" else m[0]),
    (
        re.compile(r"^no (\d{4}) fee called by (\d{4}-\d\d-\d\d)$"),
        lambda m, lang: (
            f"aucune cotisation {m[1]} appelée au {day(m[2], lang)}"
            if lang == "fr"
            else f"no {m[1]} fee called by {day(m[2], lang)}"
        ),
    ),
    (
        re.compile(r"^(\d{4}) fee: (-?\d+\.\d\d) of (-?\d+\.\d\d) EUR paid by (\d{4}-\d\d-\d\d)$"),
        lambda m, lang: (
            f"cotisation {m[1]} : {money(_cents(m[2]), lang)} payés sur {money(_cents(m[3]), lang)} au {day(m[4], lang)}"
            if lang == "fr"
            else f"{m[1]} fee: {money(_cents(m[2]), lang)} of {money(_cents(m[3]), lang)} paid by {day(m[4], lang)}"
        ),
    ),
    (
        re.compile(r"^holds (\d+) share\(s\), the statutes ask for (\d+)$"),
        lambda m, lang: f"détient {m[1]} part(s), les statuts en demandent {m[2]}" if lang == "fr" else m[0],
    ),
    (
        re.compile(r"^not a member of (\S+) on (\d{4}-\d\d-\d\d)$"),
        lambda m, lang: (
            f"pas membre de {m[1]} le {day(m[2], lang)}" if lang == "fr" else f"not a member of {m[1]} on {day(m[2], lang)}"
        ),
    ),
    (
        re.compile(r"^(\w+) on (\d{4}-\d\d-\d\d)$"),
        lambda m, lang: f"{LEFT_AS_FR.get(m[1], m[1])} le {day(m[2], lang)}" if lang == "fr" else f"{m[1]} on {day(m[2], lang)}",
    ),
]


def reason_text(detail: str, lang: str) -> str:
    for pattern, render in PATTERNS:
        match = pattern.match(detail)
        if match:
            return render(match, lang)
    return detail


def with_texts(report: dict[str, Any]) -> dict[str, Any]:
    """The explanation for the API: each reason also said for people, in French and English
    ({"fr", "en"}, as the observatory's definitions), the detail itself left as the domain wrote it."""
    reasons = [
        {
            **r,
            "text": {
                lang: f"{rule_name(r['rule'], lang)}{' : ' if lang == 'fr' else ': '}{reason_text(r['detail'], lang)}"
                for lang in ("fr", "en")
            },
        }
        for r in report["reasons"]
    ]
    return {**report, "reasons": reasons}
