"""A real browser (Playwright driving Debian's Chromium) walks the site like a researcher."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("PSK_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    # The network is closed here: CDN scripts (YASGUI, Leaflet) fail fast, and the pages must work without them.
    context.route(
        "**/*", lambda route: route.abort() if not route.request.url.startswith("http://127.0.0.1") else route.continue_()
    )
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    yield p
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_researcher_journey(server: str, page: Any) -> None:
    page.goto(server + "/")
    assert "Pakistan Security Knowledge Graph" in page.inner_text("h1")

    # search an entity with the autocomplete box, then submit the form
    page.fill("#search-box", "Jaffar")
    # (locators, not wait_for_function: the page's CSP forbids evaluating strings as script)
    page.locator("#search-suggestions option").first.wait_for(state="attached")
    options = page.eval_on_selector_all("#search-suggestions option", "els => els.map(e => e.value)")
    assert "Jaffar Express hijacking" in options
    page.fill("#search-box", "Jaffar Express")
    page.press("#search-box", "Enter")
    page.wait_for_url("**/search?q=*")
    page.click("text=Jaffar Express hijacking")
    page.wait_for_url("**/page/id/incident/jaffar-express-hijacking-2025")
    assert page.inner_text("h1") == "Jaffar Express hijacking"
    assert page.locator("table.statements q", has_text="traveling from Quetta to Peshawar").count() >= 1

    # follow links: the perpetrator, then one of its incidents
    page.click("table.statements >> text=Baloch Liberation Army")
    page.wait_for_url("**/page/id/group/baloch-liberation-army")
    page.click("table.incidents >> text=Jaffar Express hijacking")
    page.wait_for_url("**/page/id/incident/jaffar-express-hijacking-2025")

    # run an example query from the query page and see its results
    page.click("nav >> text=Query")
    page.wait_for_url("**/query")
    page.click("text=Where did the Jaffar Express travel from and to?")
    page.wait_for_selector("table.results")
    cells = page.eval_on_selector_all("table.results td", "els => els.map(e => e.textContent.trim())")
    assert "Quetta" in cells and "Peshawar" in cells

    # edit the query in the plain form and run it
    page.fill("#query-text", "SELECT ?label WHERE { ?g a psk:ArmedGroup ; rdfs:label ?label } ORDER BY ?label")
    page.click("#run-query")
    page.wait_for_selector("table.results")
    labels = page.eval_on_selector_all("table.results td", "els => els.map(e => e.textContent.trim())")
    assert "Baloch Liberation Army" in labels and "Tehrik-i-Taliban Pakistan" in labels
    # the results page URL is a shareable link that re-runs the query
    shared = page.url
    page.goto(shared)
    assert "Tehrik-i-Taliban Pakistan" in page.inner_text("table.results")


def test_map_falls_back_without_leaflet(server: str, page: Any) -> None:
    page.goto(server + "/page/id/place/balochistan/synthetic-district-a/synthville")
    page.locator("#map", has_text="29.5").wait_for()
    assert "Location: 29.5, 67" in page.inner_text("#map")


def test_bad_query_shows_a_clear_error(server: str, page: Any) -> None:
    page.goto(server + "/query")
    page.fill("#query-text", "SELECT * WHERE { ?s ?p }")
    page.click("#run-query")
    alert = page.wait_for_selector(".error[role=alert]")
    assert "malformed query" in alert.inner_text()
