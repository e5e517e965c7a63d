"""Well-known text (WKT) geometry, as legacy (2018) v1 exports wrote it: a small reader.

POINT, LINESTRING, POLYGON, MULTIPOINT (both spellings), MULTILINESTRING, MULTIPOLYGON and
GEOMETRYCOLLECTION, with an optional ``SRID=..;`` prefix, Z/M/ZM tags (kept as ``z``/``m``
vertex keys) and EMPTY. Numbers keep their JSON type (``472`` stays an int), bit-exact. Unclosed
rings, which hand-made legacy WKT can hold, are accepted. (shapely was measured and not taken:
same speed on legacy-sized geometry, ints become floats, unclosed rings are refused.)
"""

from __future__ import annotations

import re
from typing import Any

from labelbox_provider.exceptions import WktError

__all__ = ["WktError", "looks_like_wkt", "parse_wkt"]

_WKT_HEAD = re.compile(
    r"\s*(?:SRID=\d+;\s*)?(POINT|LINESTRING|POLYGON|MULTIPOINT|MULTILINESTRING|MULTIPOLYGON"
    r"|GEOMETRYCOLLECTION)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[A-Za-z]+|[(),]|\S")
_SRID = re.compile(r"^\s*SRID=\d+;", re.IGNORECASE)
_NUMBER_START = frozenset("0123456789+-.")


def _number_token(tok: str) -> float | int:
    if tok[0] not in _NUMBER_START or tok in "+-.":
        raise WktError(f"expected a number, got {tok!r}")
    return float(tok) if ("." in tok or "e" in tok or "E" in tok) else int(tok)


class _Wkt:
    """A recursive-descent WKT reader over raw string tokens (numbers converted lazily)."""

    def __init__(self, text: str) -> None:
        self.toks = _TOKEN.findall(_SRID.sub("", text))
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def expect(self, sym: str) -> None:
        if self.peek() != sym:
            raise WktError(f"expected {sym!r} at token {self.i}, got {self.peek()!r}")
        self.i += 1

    def word(self) -> str:
        tok = self.peek()
        if tok is None or not tok.isalpha():
            raise WktError(f"expected a geometry type at token {self.i}, got {tok!r}")
        self.i += 1
        return tok.upper()

    def geometry(self) -> list[tuple[str, Any]]:
        kind = self.word()
        dims: tuple[str, ...] = ("x", "y")
        tag = (self.peek() or "").upper()
        if tag in ("Z", "M", "ZM"):
            self.i += 1
            dims = ("x", "y", *tag.lower())
        if (self.peek() or "").upper() == "EMPTY":
            self.i += 1
            return []
        if kind == "POINT":
            return [("point", self._one(dims))]
        if kind == "LINESTRING":
            return [("line", self._coords(dims))]
        if kind == "POLYGON":
            return [("polygon", self._rings(dims))]
        if kind == "MULTIPOINT":
            return [("point", p) for p in self._multipoint(dims)]
        if kind == "MULTILINESTRING":
            return [("line", c) for c in self._list(lambda: self._coords(dims))]
        if kind == "MULTIPOLYGON":
            return [("polygon", r) for r in self._list(lambda: self._rings(dims))]
        if kind == "GEOMETRYCOLLECTION":
            return [part for sub in self._list(self.geometry) for part in sub]
        raise WktError(f"unsupported WKT type {kind}")

    def _one(self, dims: tuple[str, ...]) -> dict[str, Any]:
        """A ``( n n )`` body holding exactly one coordinate."""
        coords = self._coords(dims)
        if len(coords) != 1:
            raise WktError(f"a point has {len(coords)} coordinates")
        return coords[0]

    def _coords(self, dims: tuple[str, ...]) -> list[dict[str, Any]]:
        """``( n n, n n, ... )`` -> vertex dicts (the hot loop: no per-token method calls)."""
        toks, i, end = self.toks, self.i, len(self.toks)
        if i >= end or toks[i] != "(":
            raise WktError(f"expected '(' at token {i}")
        i += 1
        out: list[dict[str, Any]] = []
        values: list[float | int] = []
        while True:
            if i >= end:
                raise WktError("unterminated coordinate list")
            tok = toks[i]
            i += 1
            if tok in {",", ")"}:
                names = dims
                if len(values) == 3 and dims == ("x", "y"):
                    names = ("x", "y", "z")  # "POINT (1 2 3)" without the Z tag
                if len(values) != len(names):
                    raise WktError(f"coordinate has {len(values)} values, expected {len(names)}")
                out.append(dict(zip(names, values, strict=True)))
                values = []
                if tok == ")":
                    break
            else:
                values.append(_number_token(tok))
        self.i = i
        return out

    def _list(self, item: Any) -> list[Any]:
        self.expect("(")
        items = [item()]
        while self.peek() == ",":
            self.i += 1
            items.append(item())
        self.expect(")")
        return items

    def _rings(self, dims: tuple[str, ...]) -> list[list[dict[str, Any]]]:
        return self._list(lambda: self._coords(dims))

    def _multipoint(self, dims: tuple[str, ...]) -> list[dict[str, Any]]:
        # both "MULTIPOINT (1 2, 3 4)" and "MULTIPOINT ((1 2), (3 4))"
        if self.i + 1 < len(self.toks) and self.toks[self.i + 1] == "(":
            return self._list(lambda: self._one(dims))
        return self._coords(dims)


def parse_wkt(text: str) -> list[tuple[str, Any]]:
    """Parse WKT into parts ``(kind, data)``: ``("point", {x, y})``, ``("line", [v...])``,
    ``("polygon", [outer, hole...])`` (rings as given, closed). MULTI* and collections give
    one part per member; ``EMPTY`` gives none.

    >>> parse_wkt("MULTIPOLYGON (((0 0, 4 0, 4 3, 0 0)), ((5 5, 6 5, 6 6, 5 5)))")[1]
    ('polygon', [[{'x': 5, 'y': 5}, {'x': 6, 'y': 5}, {'x': 6, 'y': 6}, {'x': 5, 'y': 5}]])
    >>> parse_wkt("POINT Z (1.5 2 3)")
    [('point', {'x': 1.5, 'y': 2, 'z': 3})]
    """
    parser = _Wkt(text)
    parts = parser.geometry()
    if parser.peek() is not None:
        raise WktError(f"trailing tokens after geometry: {parser.toks[parser.i :][:3]}")
    return parts


def looks_like_wkt(value: Any) -> bool:
    """True if ``value`` is a string starting with a WKT geometry keyword."""
    return isinstance(value, str) and _WKT_HEAD.match(value) is not None
