"""Settings shared by the CLI and the server: where the store is and which base IRIs are minted."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .namespaces import CANONICAL_BASE, Base
from .ontology import ROOT


@dataclass
class Settings:
    base: str = field(default_factory=lambda: os.environ.get("PSK_BASE", CANONICAL_BASE))
    store: str = field(default_factory=lambda: os.environ.get("PSK_STORE", str(ROOT / "data" / "store")))
    remote: str | None = field(default_factory=lambda: os.environ.get("PSK_REMOTE") or None)

    @property
    def iris(self) -> Base:
        return Base(self.base)

    @property
    def store_path(self) -> Path:
        return Path(self.store)
