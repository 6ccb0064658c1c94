"""The observatory's answers to a browser that cannot see the page yet: a form asking for the key
of a private observatory (401), or an unknown cooperative (404), in the reader's language
(Accept-Language: French unless English is preferred), as HTML rather than raw problem JSON."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse

PAGE = Path(__file__).resolve().parent / "templates" / "observatory_key.html"

TEXTS = {
    "fr": {
        "title": "Observatoire – {coop}",
        "ask": "Cet observatoire est réservé : saisissez une clé d'API de la coopérative "
        "(tout rôle) pour l'ouvrir. Elle sera gardée pour cette page seulement.",
        "wrong": "Cette clé est inconnue, révoquée ou ne donne pas accès à cette coopérative : essayez-en une autre.",
        "unknown": "Aucune coopérative « {coop} » dans ce grand livre.",
        "key": "Clé d'API",
        "open": "Ouvrir",
    },
    "en": {
        "title": "Observatory – {coop}",
        "ask": "This observatory is private: enter one of the cooperative's API keys "
        "(any role) to open it. It is kept for this page only.",
        "wrong": "This key is unknown, revoked or not for this cooperative: try another one.",
        "unknown": "No cooperative “{coop}” in this ledger.",
        "key": "API key",
        "open": "Open",
    },
}


def language(request: Request) -> str:
    """The first of fr/en in Accept-Language (weights respected); French when neither is asked for."""
    ranked = []
    for i, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, i, tag.split("-")[0].lower()))
    return next((code for _w, _i, code in sorted(ranked) if code in TEXTS), "fr")


def _page(status: int, lang: str, coop: str, message: str, form: str) -> HTMLResponse:
    text = TEXTS[lang]
    html = (
        PAGE.read_text(encoding="utf-8")
        .replace("{{lang}}", lang)
        .replace("{{title}}", escape(text["title"].format(coop=coop)))
        .replace("{{message}}", escape(message))
        .replace("{{form}}", form)
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def ask_for_key(request: Request, coop: str, status: int, *, wrong: bool) -> HTMLResponse:
    lang = language(request)
    text = TEXTS[lang]
    form = (
        f'<form method="get" action="/observatory/{escape(coop)}"><label for="key">{escape(text["key"])}</label> '
        f'<input id="key" name="key" type="password" autocomplete="off" required maxlength="200"> '
        f'<button type="submit">{escape(text["open"])}</button></form>'
    )
    message = text["wrong"] if wrong else text["ask"]
    return _page(status, lang, coop, message, form)


def unknown_cooperative(request: Request, coop: str) -> HTMLResponse:
    lang = language(request)
    return _page(404, lang, coop, TEXTS[lang]["unknown"].format(coop=coop), "")
