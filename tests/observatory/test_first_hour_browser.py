"""The pages a new user opens first, in one headless Chromium session on the demo store: /docs
renders every operation with no internet (Swagger UI served by the application), the observatory
fits a phone and a desktop (screenshots under test-artifacts/, any overflow fails), its charts
are readable, and a private observatory opened without a key asks for one in the reader's language."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from ledger.store import StoreConfig
from tests.cli.conftest import load_demo
from tests.conftest import LIVE_HTTP_TIMEOUT_S
from tests.observatory.test_browser import ARTIFACTS, CHROMEDRIVER, CHROMIUM, _free_port, _require_chromium, _until

PUBLIC, PRIVATE = "cluster-numerique-sud", "mednum-scic"  # the demo's public and keyed observatories
WIDTHS = {"phone": (390, 1800), "desktop": (1400, 1800)}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'books.sqlite'}"
    load_demo(url)
    app = create_app(StoreConfig.from_url(url))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, name="uvicorn-first-hour", daemon=True)
    thread.start()
    _until(lambda: server.started, 10.0)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # Offline: every host name but the loopback fails to resolve, as on a machine without internet.
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=fr-FR",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "fr-FR,fr"})  # headless ignores --lang
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(20)
    try:
        yield browser
    finally:
        browser.quit()


def test_docs_render_every_operation_offline(demo_server: str, driver: Any) -> None:
    html = httpx.get(f"{demo_server}/docs", timeout=60.0).text  # the page builds the document on first use
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    # The document is built on its first request: some 2.5 s on this machine (every answer's
    # model, each fact kind's), more under load, above httpx's default 5 s timeout.
    document = httpx.get(f"{demo_server}/openapi.json", timeout=60.0).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    driver.get(f"{demo_server}/docs")
    _until(lambda: driver.execute_script("return document.querySelectorAll('.opblock').length;") >= operations, 15.0)
    assert driver.execute_script("return typeof SwaggerUIBundle;") == "function"
    assert "CommandPayFee" in driver.page_source or "PayFee" in driver.page_source
    assert httpx.get(f"{demo_server}/favicon.ico", timeout=LIVE_HTTP_TIMEOUT_S).headers["content-type"] == "image/x-icon"


OVERFLOW = """
const bad = [];
if (document.documentElement.scrollWidth > window.innerWidth + 1) bad.push(`page ${document.documentElement.scrollWidth}px wide`);
for (const card of document.querySelectorAll("section.indicator")) {
  const right = card.getBoundingClientRect().right;
  for (const e of card.querySelectorAll("h2, p, dl, div, table, th, td, canvas"))
    if (e.getBoundingClientRect().right > right + 1) bad.push(`${card.id}: ${e.tagName} ${e.textContent.slice(0, 20)}`);
  for (const box of card.querySelectorAll("div.table"))
    if (box.scrollWidth > box.clientWidth + 1) bad.push(`${card.id}: its table is cut`);
}
return bad;
"""
CHARTS = """
return Object.entries(charts).map(([id, c]) => {
  const labels = c.scales.y.ticks.map((t) => t.label).filter((l) => l !== null && l !== undefined && l !== "");
  return [id, Math.round(c.chartArea.bottom - c.chartArea.top), labels.length === new Set(labels.map(String)).size];
});
"""


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_observatory_fits_phones_and_desktops(demo_server: str, driver: Any, width: str) -> None:
    driver.set_window_size(*WIDTHS[width])
    driver.get(f"{demo_server}/observatory/{PUBLIC}")
    _until(lambda: driver.execute_script("return Object.keys(Chart.instances).length;") >= 9, 10.0)
    time.sleep(0.3)  # the charts' resize after layout
    ARTIFACTS.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / f"observatory-{width}.png"))
    overflow = driver.execute_script(OVERFLOW)
    assert overflow == [], "\n".join(overflow)
    for chart, plot_height, distinct_ticks in driver.execute_script(CHARTS):
        assert plot_height >= 120, f"{chart}: the plot is squashed to {plot_height}px ({width})"
        assert distinct_ticks, f"{chart}: repeated tick labels ({width})"


def test_a_private_observatory_asks_for_its_key_and_an_unknown_one_is_404(demo_server: str, driver: Any) -> None:
    for lang, words in (("fr-FR,fr;q=0.9", "saisissez une clé"), ("en-GB,en;q=0.9", "API keys (any role) to open it")):
        r = httpx.get(
            f"{demo_server}/observatory/{PRIVATE}",
            headers={"Accept": "text/html", "Accept-Language": lang},
            timeout=LIVE_HTTP_TIMEOUT_S,
        )
        assert r.status_code == 401 and r.headers["content-type"].startswith("text/html") and words in r.text
    r = httpx.get(f"{demo_server}/observatory/no-such-coop", headers={"Accept": "text/html"}, timeout=LIVE_HTTP_TIMEOUT_S)
    assert r.status_code == 404 and "no-such-coop" in r.text
    driver.get(f"{demo_server}/observatory/{PRIVATE}")
    assert "saisissez une clé" in driver.find_element("id", "notice").text
    assert driver.find_element("css selector", "input[name=key]").get_attribute("type") == "password"


def test_the_page_writes_numbers_as_the_command_line_does(demo_server: str, driver: Any) -> None:
    from decimal import Decimal
    from fractions import Fraction

    from api.format import money, percent

    report = httpx.get(f"{demo_server}/v1/coops/{PUBLIC}/observatory", timeout=LIVE_HTTP_TIMEOUT_S).json()
    fees = next(i for i in report["indicators"] if i["id"] == "fees")["value"]
    for lang, switch in (("fr", False), ("en", True)):
        driver.get(f"{demo_server}/observatory/{PUBLIC}")
        _until(lambda: driver.execute_script("return document.getElementById('fig-fees-paid_eur') !== null;"), 10.0)
        if switch:
            driver.find_element("id", "lang").click()
        shown = driver.execute_script(
            "return ['paid_eur', 'rate_percent'].map((k) => document.getElementById(`fig-fees-${k}`).textContent);"
        )
        paid_cents = int(Decimal(fees["paid_eur"]).scaleb(2))  # the API's euros, as the CLI's formatter takes them
        assert shown == [money(paid_cents, lang), percent(Fraction(str(fees["rate_percent"])) / 100, lang)], lang
        first_month = driver.execute_script("return charts.fees.data.labels[0];")
        assert first_month == ("janv. 25" if lang == "fr" else "Jan 25"), first_month
    driver.execute_script("localStorage.removeItem('observatory-lang');")
