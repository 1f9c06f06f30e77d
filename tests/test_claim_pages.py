"""Pages for who says what: an incident page shows every source's figures side by side and every claim about it or
its sub-events, disputed ones marked; a claim page shows its quote, speaker, stance, hedge and what contests it."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from flask.testing import FlaskClient


class Rows(HTMLParser):
    """The text of each row of the table with the given class, and of each list item with class "claim"."""

    def __init__(self, table_class: str) -> None:
        super().__init__()
        self.table_class = table_class
        self.in_table = False
        self.rows: list[str] = []
        self.claims: list[str] = []
        self._row: list[str] | None = None
        self._claim: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag == "table" and self.table_class in cls.split():
            self.in_table = True
        elif tag == "tr" and self.in_table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(" ")
        elif tag == "li" and "claim" in cls.split():
            self._claim, self._depth = [], 1
        elif tag == "li" and self._claim is not None:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.in_table = False
        elif tag == "tr" and self._row is not None:
            self.rows.append(" ".join("".join(self._row).split()))
            self._row = None
        elif tag == "li" and self._claim is not None:
            self._depth -= 1
            if self._depth == 0:
                self.claims.append(" ".join("".join(self._claim).split()))
                self._claim = None

    def handle_data(self, data: str) -> None:
        if self._row is not None:
            self._row.append(data)
        if self._claim is not None:
            self._claim.append(data)


def parse(page: str, table_class: str = "figures") -> Rows:
    parser = Rows(table_class)
    parser.feed(page)
    return parser


def test_incident_page_shows_figures_side_by_side_with_sources_and_dates(client: FlaskClient) -> None:
    page = client.get("/page/id/incident/jaffar-express-hijacking-2025").get_data(as_text=True)
    rows = parse(page).rows[1:]  # after the header
    assert len(rows) == 17
    aboard = [r for r in rows if r.startswith("People aboard")]
    assert aboard == [
        "People aboard more than 450 over 450 Pakistan Railways officials via Agence France-Presse (AFP) WION ↗",
        "People aboard 400 (approx.) about 400 in nine coaches Press Trust of India (PTI) The Tribune (India) ↗",
        "People aboard 440 440 Inter-Services Public Relations (ISPR), Pakistan Railways officials ARY News ↗",
    ]
    # ISPR's death toll changed between its statements: both are shown with their dates
    assert (
        "Passengers killed 21 21 passengers killed Inter-Services Public Relations (ISPR) ARY News ↗; Pakistan Observer ↗ 2025-03-12"
        in rows
    )
    assert any(r.startswith("Hostages killed 26") and r.endswith("2025-03-14") for r in rows)
    # a sub-event's figure names the sub-event
    assert any(r.startswith("Hostages rescued 354") and r.endswith("Jaffar Express rescue operation") for r in rows)
    assert 'href="https://www.devdiscourse.com/article/law-order/3307982"' in page


def test_incident_page_lists_claims_about_it_and_its_sub_events_marking_disputed_ones(client: FlaskClient) -> None:
    page = client.get("/page/id/incident/jaffar-express-hijacking-2025").get_data(as_text=True)
    claims = parse(page).claims
    assert len(claims) == 8
    disputed = sorted(c for c in claims if " disputed " in f" {c} ")
    assert [d.split(" disputed ", 1)[1][:45] for d in disputed] == [
        "India's Ministry of External Affairs rejects ",
        "Most of the Jaffar Express hostages were mili",
        "The DG ISPR alleges that India sponsored the ",
    ]
    hostages = next(c for c in claims if "Most of the Jaffar Express hostages" in c)
    assert "about Hostage taking aboard the Jaffar Express" in hostages  # a sub-event's claim, named
    assert "Reports indicate that the majority of the hostages were military personnel" in hostages
    responsibility = next(c for c in claims if "claims responsibility" in c)
    assert "disputed" not in responsibility and "Baloch Liberation Army · asserts" in responsibility
    assert '<span class="disputed">disputed</span>' in page


def test_claim_page_shows_quote_speaker_stance_hedge_and_what_contests_it(client: FlaskClient) -> None:
    page = client.get("/page/id/claim/most-hostages-were-military-personnel").get_data(as_text=True)
    detail = page.split('<dl class="claim-detail">', 1)[1].split("</dl>", 1)[0]
    text = " ".join(detail.split())
    assert 'The claim <span class="disputed">disputed</span>' in page
    assert "“Reports indicate that the majority of the hostages were military personnel”" in text
    assert 'Author of "The Unraveling of Pakistan"' in html.unescape(text)
    assert '<dd class="stance">Asserts</dd>' in text
    assert '“Reports indicate” <span class="meta">(certainty: Hearsay)</span>' in text
    for publisher in ("The Current", "The Opinion", "Devdiscourse"):
        assert f"— {publisher}" in text
    assert "more than 200 soldiers (the BLA&#39;s claim)" in text or "more than 200 soldiers (the BLA's claim)" in text


def test_a_denial_page_names_the_allegation_it_answers(client: FlaskClient) -> None:
    page = html.unescape(client.get("/page/id/claim/india-rejects-sponsorship-allegation").get_data(as_text=True))
    detail = " ".join(page.split('<dl class="claim-detail">', 1)[1].split("</dl>", 1)[0].split())
    assert '<dd class="stance">Denies</dd>' in detail
    assert "Ministry of External Affairs of India" in detail
    assert 'Inter-Services Public Relations (ISPR) <span class="stance">alleges</span>' in detail
    assert "India sponsored the Jaffar Express attack" in detail  # the shared proposition
    assert "none: stated outright" in detail  # no hedge
    assert "https://news-247.top/n/1921598" in detail  # the report that carries it
