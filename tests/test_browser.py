"""A real browser (Playwright driving Debian's Chromium) walks the site like a researcher, with no network at all:
every request that is not to the test server is blocked, and each test asserts that none was even attempted.
Screenshots at 390 px and 1280 px go to tests/screenshots/ (not committed)."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import ROOT

CHROMIUM = os.environ.get("PSK_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "tests" / "screenshots"
WIDTHS = (390, 1280)

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


class Page:
    """A browser tab that records every request it tried to send anywhere but the test server."""

    def __init__(self, browser: Any, server: str, width: int = 1280, javascript: bool = True) -> None:
        self.server, self.width = server, width
        self.context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
        self.elsewhere: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(self.server + "/"):
            route.continue_()
        else:
            self.elsewhere.append(route.request.url)
            route.abort()

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(exist_ok=True)
        path = SHOTS / f"{name}-{self.width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def page_scroll_width(self) -> int:
        return int(self.page.evaluate("document.documentElement.scrollWidth"))

    def close(self) -> None:
        self.context.close()
        assert self.elsewhere == [], f"requests to other hosts were attempted: {self.elsewhere}"
        assert self.errors == [], f"JavaScript errors: {self.errors}"


@pytest.fixture
def tab(browser: Any, server: str) -> Iterator[Page]:
    t = Page(browser, server)
    yield t
    t.close()


def query_url(server: str, query: str) -> str:
    return server + "/query?" + urllib.parse.urlencode({"query": query})


def editor_set(page: Any, text: str) -> None:
    page.evaluate("text => { window.pskEditor.setValue(text); window.pskEditor.focus(); }", text)


def test_editor_completes_from_this_graph_and_ctrl_enter_runs(tab: Page) -> None:
    page = tab.page
    page.goto(tab.server + "/query")
    page.wait_for_selector("#editor .CodeMirror")
    assert page.is_hidden("#query-text")  # the editor replaced the plain textarea
    assert page.locator("#editor .cm-keyword", has_text="SELECT").count() >= 1  # syntax highlighting
    editor_set(page, "")
    page.click("#editor .CodeMirror")
    page.keyboard.type("SELECT ?g ?label WHERE { ?g a psk:Arm")
    hint = page.wait_for_selector(".CodeMirror-hint >> text=psk:ArmedGroup")
    assert "Armed group" in hint.inner_text()  # the class's label, from VoID partitions + rdfs:label
    page.keyboard.press("Enter")
    page.keyboard.type(" ; rdfs:lab")
    page.wait_for_selector(".CodeMirror-hint >> text=rdfs:label")
    page.keyboard.press("Enter")
    page.keyboard.type(" ?label } ORD")
    page.wait_for_selector(".CodeMirror-hint >> text=ORDER")  # keyword completion
    page.keyboard.press("Escape")
    page.keyboard.type("ER BY ?label")
    assert page.evaluate("window.pskEditor.getValue()").endswith("} ORDER BY ?label")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#js-results[data-ready=true]")
    links = page.eval_on_selector_all("#view-table a", "els => els.map(e => [e.textContent, e.getAttribute('href')])")
    assert ["Baloch Liberation Army", "/page/id/group/baloch-liberation-army"] in links
    assert "query=" in page.url  # the address re-runs this query
    tab.shot("query-editor")


def test_entity_completion_on_ctrl_space(tab: Page) -> None:
    page = tab.page
    page.goto(tab.server + "/query")
    page.wait_for_selector("#editor .CodeMirror")
    editor_set(page, "SELECT ?p ?o WHERE { ")
    page.evaluate("window.pskEditor.setCursor(window.pskEditor.lineCount(), 0)")
    page.keyboard.type("Jaffar")
    page.keyboard.press("Control+Space")
    hint = page.wait_for_selector(".CodeMirror-hint.hint-entity >> text=Jaffar Express hijacking")
    hint.click()
    assert "<https://w3id.org/pakistan-security-kg/id/incident/jaffar-express-hijacking-2025>" in page.evaluate(
        "window.pskEditor.getValue()"
    )
    # prefix completion after PREFIX
    editor_set(page, "")
    page.keyboard.type("PREFIX ps")
    page.wait_for_selector(".CodeMirror-hint >> text=psk: <https://w3id.org/pakistan-security-kg/ontology#>")
    page.keyboard.press("Enter")
    assert page.evaluate("window.pskEditor.getValue()") == "PREFIX psk: <https://w3id.org/pakistan-security-kg/ontology#>"


@pytest.mark.parametrize("width", WIDTHS)
def test_each_result_view(browser: Any, server: str, width: int) -> None:
    tab = Page(browser, server, width)
    page = tab.page
    try:
        # a map from lat/long columns, a chart from a label and a number, the table with labels
        page.goto(
            query_url(
                server,
                # places only: ACLED events carry their own coded coordinates too
                "SELECT ?place ?label ?lat ?lon WHERE { ?place schema:latitude ?lat ; schema:longitude ?lon ; rdfs:label ?label"
                " FILTER NOT EXISTS { ?place a psk:Incident } }",
            )
        )
        page.wait_for_selector("#js-results[data-ready=true]")
        views = page.eval_on_selector_all(".view-tabs [data-view]", "els => els.map(e => e.dataset.view)")
        assert views == ["table", "map", "code"]  # coordinates are not charted
        page.click("[data-view=map]")
        page.wait_for_selector("#view-map .map[data-ready=true]")
        assert page.get_attribute("#view-map .map", "data-points") == "3"
        assert page.locator("#view-map path.leaflet-interactive").count() == 3  # the bubbles
        assert page.locator("#view-map .leaflet-base-pane path").count() > 100  # Natural Earth outlines, offline
        page.locator("#view-map path.leaflet-interactive").first.click(force=True)
        popup = page.wait_for_selector(".leaflet-popup-content a")
        assert popup.get_attribute("href").startswith("/page/id/")
        tab.shot("view-map")

        # a timeline from a date column, a bar and a line chart from a label and a count
        page.goto(query_url(server, "SELECT ?i ?date WHERE { ?i a psk:Incident ; psk:date ?date }"))
        page.wait_for_selector("#js-results[data-ready=true]")
        page.click("[data-view=timeline]")
        page.wait_for_selector("#view-timeline svg.timeline")
        assert page.locator("#view-timeline circle.event").count() == 5
        assert page.locator("#view-timeline a[href='/page/id/incident/jaffar-express-hijacking-2025']").count() == 1
        tab.shot("view-timeline")

        page.goto(
            query_url(
                server,
                "SELECT ?province (COUNT(?i) AS ?incidents) WHERE { ?i a psk:Incident ; psk:province ?province } GROUP BY ?province ORDER BY DESC(?incidents)",
            )
        )
        page.wait_for_selector("#js-results[data-ready=true]")
        page.click("[data-view=chart]")
        bars = page.eval_on_selector_all("#view-chart rect.bar title", "els => els.map(e => e.textContent)")
        assert any(b.startswith("Balochistan: ") for b in bars), bars
        page.click("[data-kind=line]")
        page.wait_for_selector("#view-chart polyline.line")
        tab.shot("view-chart")

        page.click("[data-view=code]")
        snippets = page.eval_on_selector_all("#view-code pre.snippet", "els => els.map(e => [e.dataset.lang, e.textContent])")
        langs = [lang for lang, _ in snippets]
        assert langs == ["curl", "Python (SPARQLWrapper)", "R (httr)"]
        for _lang, text in snippets:
            assert "COUNT(?i) AS ?incidents" in text and server + "/sparql" in text
        downloads = page.eval_on_selector_all("#js-results .downloads a", "els => els.map(e => e.dataset.format)")
        assert downloads == ["csv", "tsv", "json", "xml"]
        csv_href = page.get_attribute("#js-results .downloads a[data-format=csv]", "href")
        body = page.evaluate("href => fetch(href).then(r => r.text())", csv_href)
        assert body.startswith("province,incidents")
        assert tab.page_scroll_width() <= width  # results scroll inside their box, not the page
    finally:
        tab.close()


def test_errors_in_the_researchers_terms(tab: Page) -> None:
    page = tab.page
    page.goto(tab.server + "/query")
    page.wait_for_selector("#editor .CodeMirror")
    editor_set(page, "SELECT * WHERE { ?s ?p ?o } ORDR BY ?s")
    page.keyboard.press("Control+Enter")
    alert = page.wait_for_selector("#query-error:not([hidden])")
    assert "did you mean ORDER?" in alert.inner_text()
    editor_set(page, "SELECT * WHERE { ?s dbo:name ?o }")
    page.click("#run-query")
    page.locator("#query-error", has_text="dbo:").wait_for()  # a locator: the page's CSP forbids evaluating strings
    message = page.inner_text("#query-error")
    assert "predeclared prefixes: " in message and all(f" {p}:," in message for p in ("psk", "rdfs", "schema"))


def test_short_link(tab: Page) -> None:
    page = tab.page
    page.goto(tab.server + "/query")
    page.wait_for_selector("#editor .CodeMirror")
    editor_set(page, "SELECT ?label WHERE { ?g a psk:ArmedGroup ; rdfs:label ?label } ORDER BY ?label")
    page.click("#make-link")
    page.wait_for_selector("#short-link:not([hidden])")
    link = page.input_value("#short-link")
    assert "/query?q=" in link and page.url == link
    page.goto(link)
    page.wait_for_selector("#js-results[data-ready=true]")
    assert "Tehrik-i-Taliban Pakistan" in page.inner_text("#view-table")


def test_plain_form_works_without_javascript(browser: Any, server: str) -> None:
    tab = Page(browser, server, javascript=False)
    page = tab.page
    try:
        page.goto(server + "/query")
        page.click("text=Where did the Jaffar Express travel from and to?")
        page.wait_for_selector("table.results")
        cells = page.eval_on_selector_all("table.results td .literal", "els => els.map(e => e.textContent.trim())")
        assert "Quetta" in cells and "Peshawar" in cells
        page.fill("#query-text", "SELECT ?g WHERE { ?g a psk:ArmedGroup } ORDER BY ?g")
        page.click("#run-query")
        page.wait_for_selector("table.results")
        assert page.locator("table.results a", has_text="Baloch Liberation Army").count() == 1
        shared = page.url
        page.goto(shared)
        assert "Tehrik-i-Taliban Pakistan" in page.inner_text("table.results")
        page.fill("#query-text", "SELECT * WHERE { ?s ?p }")
        page.click("#run-query")
        assert "cannot come here" in page.inner_text(".error[role=alert]")
    finally:
        tab.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_offline_map_of_a_province_and_a_place(browser: Any, server: str, width: int) -> None:
    tab = Page(browser, server, width)
    page = tab.page
    try:
        page.goto(server + "/page/id/province/balochistan")
        page.wait_for_selector("#map[data-ready=true]")
        assert page.get_attribute("#map", "data-base-layer") == "natural-earth"
        assert page.locator("#map .leaflet-base-pane path").count() > 100
        assert page.locator("#map .leaflet-tile").count() == 0  # no online tiles unless configured
        bubble = page.locator("#map path.leaflet-interactive").first
        bubble.click(force=True)
        popup = page.wait_for_selector(".leaflet-popup-content")
        assert "Synthville" in popup.inner_text() and "incident" in popup.inner_text()
        tab.shot("map-province")
        page.goto(server + "/page/id/place/balochistan/synthetic-district-a/synthville")
        page.wait_for_selector("#map[data-ready=true]")
        assert "Location: 29.5, 67" in page.inner_text(".map-caption")
    finally:
        tab.close()


def test_marker_popups_show_labels_as_text(browser: Any, server: str) -> None:
    tab = Page(browser, server)
    page = tab.page
    try:
        page.goto(server + "/query")
        page.wait_for_selector("#editor .CodeMirror")
        hostile = "<img src=x onerror=window.pwned=1>"
        editor_set(page, f'SELECT ?label ?lat ?lon WHERE {{ VALUES (?label ?lat ?lon) {{ ("{hostile}" 30.0 67.0) }} }}')
        page.keyboard.press("Control+Enter")
        page.wait_for_selector("#js-results[data-ready=true]")
        page.click("[data-view=map]")
        page.wait_for_selector("#view-map .map[data-ready=true]")
        page.locator("#view-map path.leaflet-interactive").first.click(force=True)
        popup = page.wait_for_selector(".leaflet-popup-content")
        assert hostile in popup.inner_text()
        assert page.locator(".leaflet-popup-content img").count() == 0
        assert page.evaluate("window.pwned") is None
    finally:
        tab.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_search_with_the_keyboard(browser: Any, server: str, width: int) -> None:
    tab = Page(browser, server, width)
    page = tab.page
    try:
        page.goto(server + "/")
        page.click("#search-box")
        page.keyboard.type("Balochistan", delay=40)  # "Baloch" matches the Baloch people first: typing must not navigate
        page.wait_for_selector("#search-box + ul.suggestions li")
        assert page.url == server + "/"
        labels = page.eval_on_selector_all("ul.suggestions li .label", "els => els.map(e => e.textContent)")
        assert labels[0] == "Balochistan", labels
        assert page.get_attribute("#search-box", "aria-expanded") == "true"
        tab.shot("search-suggestions")
        page.keyboard.press("ArrowDown")
        assert page.get_attribute("ul.suggestions li:first-child", "aria-selected") == "true"
        page.keyboard.press("Enter")
        page.wait_for_url("**/page/id/province/balochistan")
        assert page.inner_text("h1") == "Balochistan"
        # Enter without choosing a suggestion runs the search
        page.fill("#search-box", "Jaffar")
        page.wait_for_selector("#search-box + ul.suggestions li")
        page.keyboard.press("Enter")
        page.wait_for_url("**/search?q=Jaffar")
        page.click("main >> text=Jaffar Express hijacking")
        page.wait_for_url("**/page/id/incident/jaffar-express-hijacking-2025")
    finally:
        tab.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_recipe_form(browser: Any, server: str, width: int) -> None:
    tab = Page(browser, server, width)
    page = tab.page
    try:
        page.goto(server + "/recipes")
        page.click("text=Incidents in a province between two dates, by an actor")
        page.wait_for_selector("#recipe-form")
        assert page.input_value("#param-province") == "Balochistan"  # the default, shown by its label
        assert page.get_attribute("#param-from", "type") == "date"
        page.fill("#param-from", "2025-01-01")
        page.click("#param-actor")
        page.keyboard.type("Baloch Lib", delay=30)
        page.wait_for_selector("#param-actor + ul.suggestions li")
        details = page.eval_on_selector_all("#param-actor + ul.suggestions li .detail", "els => els.map(e => e.textContent)")
        assert details and all(d != "Province" for d in details)  # only actors are offered
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        assert page.input_value("#param-actor") == "Baloch Liberation Army"
        assert page.input_value("#value-actor") == "https://w3id.org/pakistan-security-kg/id/group/baloch-liberation-army"
        assert page.url.endswith("/recipes/incidents-in-a-province")  # choosing does not submit
        page.click("#run-recipe")
        page.wait_for_selector("#js-results[data-ready=true]")
        assert "Jaffar Express hijacking" in page.inner_text("#view-table")
        views = page.eval_on_selector_all(".view-tabs [data-view]", "els => els.map(e => e.dataset.view)")
        assert "map" in views and "timeline" in views
        cite = page.inner_text("#cite")
        assert "dataset version" in cite and "/query?q=" in cite
        assert page.locator("#js-results .downloads a").count() == 4
        assert tab.page_scroll_width() <= width
        tab.shot("recipe")
    finally:
        tab.close()


LAYOUT_PAGES = {
    "home": "/",
    "province": "/page/id/province/balochistan",
    "group": "/page/id/group/baloch-liberation-army",
    "incident": "/page/id/incident/jaffar-express-hijacking-2025",
    "claim-author": "/page/id/agent/author-of-the-unraveling-of-pakistan",
    "ontology": "/ontology",
    "class": "/class/ArmedGroup",
    "search": "/search?q=Baloch",
    "query": "/query",
    "recipes": "/recipes",
    "dumps": "/dumps",
}


@pytest.mark.parametrize("width", WIDTHS)
def test_layout_has_no_horizontal_page_scroll(browser: Any, server: str, width: int) -> None:
    tab = Page(browser, server, width)
    page = tab.page
    try:
        wide = {}
        for name, path in LAYOUT_PAGES.items():
            page.goto(server + path)
            page.wait_for_load_state("load")
            if page.locator("#map").count():
                page.wait_for_selector("#map[data-ready]")
            if name == "query":
                page.wait_for_selector("#editor .CodeMirror")
            scroll = tab.page_scroll_width()
            if scroll > width:
                wide[name] = scroll
            tab.shot(f"page-{name}")
        assert wide == {}, f"pages wider than the {width} px window: {wide}"
    finally:
        tab.close()
