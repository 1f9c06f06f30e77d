"""Result pages link only http(s) IRIs; every page carries CSP (no inline script), framing, sniffing and referrer
policies."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from .helpers import ROOT

HOSTILE = {
    "javascript:alert(document.domain)": "javascript",
    "JavaScript:alert(1)": "javascript",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==": "data",
    "vbscript:msgbox(1)": "vbscript",
}
QUERY = "SELECT ?x WHERE {{ VALUES ?x {{ {iris} <http://example.org/ok> <https://example.org/fine> }} }}"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.inline_scripts = 0
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href") is not None:
            self.hrefs.append(values["href"] or "")
        if tag == "script" and not values.get("src"):
            self.inline_scripts += 1
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def parse(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


@pytest.mark.parametrize("path,args", [("/query", {}), ("/sparql", {"format": "html"})])
def test_only_http_iris_become_links(client: FlaskClient, path: str, args: dict[str, str]) -> None:
    query = QUERY.format(iris=" ".join(f"<{iri}>" for iri in HOSTILE))
    resp = client.get(path, query_string={**args, "query": query})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    hrefs = parse(html).hrefs
    assert "http://example.org/ok" in hrefs and "https://example.org/fine" in hrefs
    for iri in HOSTILE:
        assert not any(h.lower().startswith(iri.split(":")[0].lower() + ":") for h in hrefs), (iri, hrefs)
        assert iri.replace("&", "&amp;") in html  # still shown, as text
    if path == "/sparql":
        assert resp.headers["Vary"] == "Accept"


@pytest.mark.parametrize(
    "path", ["/", "/query", "/sparql?format=html&query=ASK%7B%7D", "/search?q=Baloch", "/dumps", "/no/such/page", "/ontology"]
)
def test_every_page_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    resp = client.get(path, headers={"Accept": "text/html"})
    assert resp.mimetype == "text/html", path
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    page = parse(resp.get_data(as_text=True))
    assert page.inline_scripts == 0 and page.handlers == []


def test_protocol_answers_are_not_sniffed(client: FlaskClient) -> None:
    resp = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": "application/json"})
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_holds_inline_script() -> None:
    for template in sorted(Path(ROOT / "server" / "templates").glob("*.html")):
        page = parse(template.read_text())
        assert page.inline_scripts == 0 and page.handlers == [], template.name
