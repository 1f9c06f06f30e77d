"""The front end loads only local files: vendored libraries match their manifest, and nothing names another host."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from kg.config import Settings
from server import create_app

from .helpers import ROOT

STATIC = ROOT / "server" / "static"
TEMPLATES = ROOT / "server" / "templates"
_spec = importlib.util.spec_from_file_location("vendor_script", ROOT / "scripts" / "vendor.py")
assert _spec and _spec.loader
vendor: Any = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = vendor
_spec.loader.exec_module(vendor)

# Namespace names used as identifiers in code (compared, never fetched): the only host names allowed.
NAMESPACES = {
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/2001/XMLSchema#",
    "http://www.opengis.net/ont/geosparql#wktLiteral",
}
URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'<>)]*""")


def own_files() -> list[Path]:
    """Templates and the project's own static files (not the vendored libraries, which are checked by integrity)."""
    files = [p for p in TEMPLATES.rglob("*.html")]
    files += [p for p in STATIC.rglob("*") if p.is_file() and "vendor" not in p.relative_to(STATIC).parts]
    return sorted(files)


def test_every_vendored_file_matches_its_recorded_integrity() -> None:
    assert vendor.check() == []
    names = {p["name"] for p in vendor._load_manifest().values()}
    assert {"@zazuko/yasgui", "leaflet", "world-atlas", "topojson-client"} <= names
    for pkg in vendor._load_manifest().values():
        assert pkg["version"] and pkg["licence"] and pkg["tarball_integrity"].startswith("sha512-"), pkg["name"]


def test_the_check_sees_a_changed_vendored_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "vendor"
    copy.mkdir()
    (copy / "manifest.json").write_bytes(vendor.MANIFEST.read_bytes())
    for pkg in vendor._load_manifest().values():
        for rel in pkg["files"]:
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            (copy / rel).write_bytes((vendor.VENDOR / rel).read_bytes())
    monkeypatch.setattr(vendor, "VENDOR", copy)
    monkeypatch.setattr(vendor, "MANIFEST", copy / "manifest.json")
    assert vendor.check() == []
    (copy / "leaflet" / "leaflet.js").write_bytes(b"alert(1)\n")
    (copy / "extra.js").write_text("x")
    problems = vendor.check()
    assert any(p.startswith("leaflet/leaflet.js: does not match") for p in problems), problems
    assert "extra.js: not in manifest.json" in problems


def test_no_template_or_static_file_names_another_host() -> None:
    found = []
    for path in own_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in URL.finditer(text):
            if m.group(0) not in NAMESPACES:
                found.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
    assert found == []


def test_vendored_stylesheets_load_nothing_from_elsewhere() -> None:
    for css in (STATIC / "vendor").rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert not re.search(r"""url\(\s*['"]?(?:https?:)?//""", text), css
        assert "@import" not in text, css


@pytest.fixture(scope="module")
def client(full_store: Path) -> Any:
    return create_app(Settings(store=str(full_store))).test_client()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/query",
        "/page/id/province/balochistan",
        "/page/id/place/balochistan/synthetic-district-a/synthville",
        "/search?q=BLA",
    ],
)
def test_pages_load_only_local_files_with_integrity(client: Any, path: str) -> None:
    html = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    assert tags
    for tag in tags:
        if tag.startswith("<link") and 'rel="alternate"' in tag:
            continue
        url = re.search(r'(?:src|href)="([^"]+)"', tag)
        if url is None:  # an inline script
            continue
        assert url.group(1).startswith("/static/"), tag
        integrity = re.search(r'integrity="(sha384-[^"]+)"', tag)
        assert integrity, tag
        rel = url.group(1)[len("/static/") :]
        assert integrity.group(1) == vendor.sri((STATIC / rel).read_bytes()), tag


def test_online_tiles_only_when_configured(full_store: Path) -> None:
    path = "/page/id/place/balochistan/synthetic-district-a/synthville"
    plain = create_app(Settings(store=str(full_store))).test_client().get(path).get_data(as_text=True)
    assert "data-tiles" not in plain and "data-world=" in plain
    tiles = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
    configured = create_app(Settings(store=str(full_store), map_tiles=tiles)).test_client().get(path)
    assert f'data-tiles="{tiles}"' in configured.get_data(as_text=True)


def test_map_points_of_a_province(client: Any) -> None:
    base = "https://w3id.org/pakistan-security-kg/"
    points = client.get("/api/map-points", query_string={"entity": base + "id/province/balochistan"}).get_json()
    synthville = next(p for p in points if p["label"] == "Synthville")
    assert synthville["lat"] == 29.5 and synthville["lon"] == 67.0
    assert synthville["page"] == "/page/id/place/balochistan/synthetic-district-a/synthville"
    assert synthville["incidents"] >= 1 and synthville["fatalities"] >= 0
    bad = client.get("/api/map-points", query_string={"entity": "balochistan"})
    assert bad.status_code == 400 and "entity: expected the IRI" in bad.get_data(as_text=True)


def test_province_bubbles(client: Any) -> None:
    points = {p["label"]: p for p in client.get("/api/map-points?by=province").get_json()}
    balochistan = points["Balochistan"]
    assert balochistan["page"] == "/page/id/province/balochistan"
    assert balochistan["incidents"] >= 2  # the Jaffar Express hijacking (curated, not located) and the ACLED row
    assert (balochistan["lat"], balochistan["lon"]) == (29.5, 67.0)  # its one located place
    home = client.get("/").get_data(as_text=True)
    assert 'data-points="/api/map-points?by=province"' in home
