"""HTTP content negotiation: a strict Accept parser that reports what is wrong and where.

Hand-written because werkzeug's parser silently drops malformed entries, and a bad Accept header must be a 400
naming the entry (tested in tests/test_units.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.errors import BadAccept, NotAcceptable

__all__ = ["BadAccept", "NotAcceptable", "Range", "choose", "parse_accept"]


@dataclass(frozen=True)
class Range:
    type: str
    subtype: str
    q: float
    order: int

    def matches(self, media: str) -> int:
        """Specificity of the match (2 exact, 1 type/*, 0 */*), or -1."""
        t, _, s = media.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type == t and self.subtype == "*":
            return 1
        if self.type == t and self.subtype == s:
            return 2
        return -1


def parse_accept(header: str | None) -> list[Range]:
    if header is None or not header.strip():
        return [Range("*", "*", 1.0, 0)]
    ranges: list[Range] = []
    for i, part in enumerate(header.split(",")):
        part = part.strip()
        if not part:
            continue
        media, *params = (p.strip() for p in part.split(";"))
        if "/" not in media:
            raise BadAccept(f"Accept header entry {i + 1} ({media!r}) is not a media range like 'text/turtle'")
        t, _, s = media.lower().partition("/")
        if not t or not s or (t == "*" and s != "*"):
            raise BadAccept(f"Accept header entry {i + 1} ({media!r}) is not a valid media range")
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    raise BadAccept(f"Accept header entry {i + 1} ({part!r}) has a q-value that is not a number") from None
                if not 0 <= q <= 1:
                    raise BadAccept(f"Accept header entry {i + 1} ({part!r}) has a q-value outside 0..1")
        ranges.append(Range(t, s, q, i))
    return ranges


def choose(header: str | None, offered: list[str]) -> str:
    """Pick the best of the offered media types (first offered wins ties); raise NotAcceptable."""
    ranges = parse_accept(header)
    best: tuple[float, int] | None = None
    best_media = None
    for pos, media in enumerate(offered):
        # The most specific range that matches decides this type's quality.
        match = max(
            ((r.matches(media), r) for r in ranges if r.matches(media) >= 0), key=lambda x: (x[0], -x[1].order), default=None
        )
        if match is None or match[1].q <= 0:
            continue
        key = (match[1].q, -pos)  # quality first; ties go to the server's order of preference
        if best is None or key > best:
            best, best_media = key, media
    if best_media is None:
        raise NotAcceptable(f"none of the available types is acceptable: {', '.join(offered)}")
    return best_media
