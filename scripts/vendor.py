"""Vendor the front end's JavaScript libraries and map data from the npm registry into server/static/vendor/.

    python scripts/vendor.py            # fetch the pinned versions with `npm pack`, copy the files, write manifest.json
    python scripts/vendor.py --check    # offline: every vendored file matches manifest.json (SHA-384), nothing extra

The pages load only these local copies (with their SHA-384 as `integrity`), so they work with no network at all.
To upgrade a library, change its version below and run the script: the tarball's own integrity (npm's SHA-512) and
each file's SHA-384 are recorded in the manifest; a refresh of an unchanged version that yields different bytes fails.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "server" / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    licence: str  # SPDX identifier, as the package declares it
    folder: str  # under server/static/vendor/
    files: dict[str, str]  # path inside the package tarball -> path under folder


PACKAGES = [
    Package(
        "@zazuko/yasgui",
        "4.6.2",
        "MIT",
        "yasgui",
        {"package/build/yasgui.min.js": "yasgui.min.js", "package/build/yasgui.min.css": "yasgui.min.css"},
    ),
    Package(
        "leaflet",
        "1.9.4",
        "BSD-2-Clause",
        "leaflet",
        {
            "package/dist/leaflet.js": "leaflet.js",
            "package/dist/leaflet.css": "leaflet.css",
            "package/dist/images/marker-icon.png": "images/marker-icon.png",
            "package/dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "package/dist/images/marker-shadow.png": "images/marker-shadow.png",
            "package/dist/images/layers.png": "images/layers.png",
            "package/dist/images/layers-2x.png": "images/layers-2x.png",
            "package/LICENSE": "LICENSE",
        },
    ),
    Package(
        "topojson-client",
        "3.1.0",
        "ISC",
        "topojson-client",
        {"package/dist/topojson-client.min.js": "topojson-client.min.js", "package/LICENSE": "LICENSE"},
    ),
    # Natural Earth country outlines (public domain) as TopoJSON; 1:50m is detailed enough for a province view.
    Package(
        "world-atlas",
        "2.0.2",
        "ISC",
        "world-atlas",
        {"package/countries-50m.json": "countries-50m.json", "package/LICENSE": "LICENSE"},
    ),
]


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def _strip_source_map(data: bytes) -> bytes:
    """Drop a trailing sourceMappingURL comment: the .map files are not vendored (a browser would ask for them)."""
    lines = data.rstrip(b"\n").split(b"\n")
    if lines and lines[-1].startswith((b"//# sourceMappingURL=", b"/*# sourceMappingURL=")):
        return b"\n".join(lines[:-1]) + b"\n"
    return data


def _load_manifest() -> dict[str, dict]:
    if not MANIFEST.exists():
        return {}
    return {p["name"]: p for p in json.loads(MANIFEST.read_text(encoding="utf-8"))["packages"]}


def refresh() -> None:
    old = _load_manifest()
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in PACKAGES:
            spec = f"{pkg.name}@{pkg.version}"
            out = subprocess.run(
                ["npm", "pack", spec, "--json", "--pack-destination", tmp], check=True, capture_output=True, text=True
            ).stdout
            info = json.loads(out)[0]
            previous = old.get(pkg.name)
            if previous and previous["version"] == pkg.version and previous["tarball_integrity"] != info["integrity"]:
                sys.exit(
                    f"{spec}: the registry's tarball changed ({info['integrity']}, recorded {previous['tarball_integrity']})"
                )
            folder = VENDOR / pkg.folder
            if folder.exists():
                shutil.rmtree(folder)
            files = {}
            with tarfile.open(Path(tmp) / info["filename"]) as tar:
                for src, dest in pkg.files.items():
                    member = tar.extractfile(src)
                    if member is None:
                        sys.exit(f"{spec}: {src} is not in the package")
                    data = member.read()
                    if dest.endswith((".js", ".css")):
                        data = _strip_source_map(data)
                    target = folder / dest
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    files[f"{pkg.folder}/{dest}"] = sri(data)
            entries.append(
                {
                    "name": pkg.name,
                    "version": pkg.version,
                    "licence": pkg.licence,
                    "source": f"npm registry tarball {info['filename']}",
                    "tarball_integrity": info["integrity"],
                    "files": files,
                }
            )
            print(f"{spec}: {len(files)} files")
    MANIFEST.write_text(json.dumps({"generated_by": "scripts/vendor.py", "packages": entries}, indent=2) + "\n", encoding="utf-8")


def check() -> list[str]:
    """Problems with the vendored files: a file missing, changed, or not in the manifest."""
    problems = []
    recorded: dict[str, str] = {}
    for pkg in _load_manifest().values():
        recorded.update(pkg["files"])
    if not recorded:
        return [f"{MANIFEST} is missing or empty"]
    for rel, digest in recorded.items():
        path = VENDOR / rel
        if not path.exists():
            problems.append(f"{rel}: missing")
        elif sri(path.read_bytes()) != digest:
            problems.append(f"{rel}: does not match its recorded integrity {digest}")
    for path in VENDOR.rglob("*"):
        rel = path.relative_to(VENDOR).as_posix()
        if path.is_file() and rel not in recorded and path != MANIFEST:
            problems.append(f"{rel}: not in manifest.json")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the vendored files offline")
    args = parser.parse_args()
    if args.check:
        problems = check()
        for p in problems:
            print(p, file=sys.stderr)
        sys.exit(1 if problems else 0)
    refresh()


if __name__ == "__main__":
    main()
