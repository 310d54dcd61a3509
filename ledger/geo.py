"""Points and polygons (GeoJSON, RFC 7946 order: longitude, latitude) against region
boundaries kept as rules data, in pure Python.

A facility's ``geo`` is a Point or a Polygon; it lies in a region when the point falls
inside the region's boundary (even-odd rule; holes of the boundary count as outside),
or when the polygon and the boundary intersect: a vertex of one inside the other, or
an edge of one crossing an edge of the other (a site straddling the border, or a long
thin polygon drawn across the region with every vertex outside it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import ConfigError

Point = tuple[float, float]


@dataclass(frozen=True)
class Boundary:
    """A region's boundary: an exterior ring and optional holes, with its source."""

    rings: tuple[tuple[Point, ...], ...]
    source: str

    def contains(self, point: Point) -> bool:
        inside = False
        for ring in self.rings:
            if _in_ring(point, ring):
                inside = not inside
        return inside


def _in_ring(point: Point, ring: Sequence[Point]) -> bool:
    x, y = point
    inside = False
    for i in range(len(ring)):
        (x1, y1), (x2, y2) = ring[i], ring[i - 1]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _point(value: object, where: str) -> Point:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
    ):
        raise ConfigError(f"rules: {where} must be [longitude, latitude] numbers")
    return float(value[0]), float(value[1])


def parse_boundary(value: object, where: str) -> Boundary:
    """A boundary from rules data: ``{"type": "Polygon", "coordinates": [...], "source"}``."""
    if not isinstance(value, dict) or value.get("type") != "Polygon":
        raise ConfigError(f"rules: {where} must be a GeoJSON Polygon")
    rings = value.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise ConfigError(f"rules: {where} has no rings")
    parsed = []
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            raise ConfigError(f"rules: {where} rings need at least 4 positions")
        parsed.append(tuple(_point(p, where) for p in ring))
    return Boundary(tuple(parsed), str(value.get("source", "")))


def _rings(geo: dict[str, Any]) -> list[list[Point]]:
    """A geometry's rings: one ring of one position for a Point, a Polygon's rings."""
    try:
        if geo.get("type") == "Point":
            lon, lat = geo["coordinates"]
            return [[(float(lon), float(lat))]]
        if geo.get("type") == "Polygon":
            return [[(float(lon), float(lat)) for lon, lat in ring] for ring in geo["coordinates"]]
    except (KeyError, TypeError, ValueError):
        return []
    return []


def geometry_points(geo: dict[str, Any]) -> list[Point]:
    """The points that place a facility: a Point, or a polygon's exterior vertices."""
    rings = _rings(geo)
    return rings[0] if rings else []


def _orientation(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _crosses(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Segments ab and cd meet (touching counts)."""
    d1, d2 = _orientation(c, d, a), _orientation(c, d, b)
    d3, d4 = _orientation(a, b, c), _orientation(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(c, d, a))
        or (d2 == 0 and _on_segment(c, d, b))
        or (d3 == 0 and _on_segment(a, b, c))
        or (d4 == 0 and _on_segment(a, b, d))
    )


def _box(ring: Sequence[Point]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _edges(ring: Sequence[Point]) -> list[tuple[Point, Point]]:
    return [(ring[i - 1], ring[i]) for i in range(1, len(ring))]


def inside(geo: dict[str, Any], boundary: Boundary) -> bool:
    """True when the geometry ``geo`` places the site inside ``boundary``: a point within
    it, or a polygon that intersects it."""
    rings = _rings(geo)
    if not rings or not rings[0]:
        return False
    if any(boundary.contains(p) for p in rings[0]):
        return True
    if len(rings[0]) < 4 or not _overlap(_box(rings[0]), _box(boundary.rings[0])):
        return False
    site = Boundary(tuple(tuple(r) for r in rings), "")
    if any(site.contains(p) for ring in boundary.rings for p in ring):
        return True
    return any(
        _crosses(a, b, c, d)
        for a, b in _edges(rings[0])
        for ring in boundary.rings
        for c, d in _edges(ring)
    )


def describe(geo: dict[str, Any]) -> str:
    points = geometry_points(geo)
    if geo.get("type") == "Point" and points:
        lon, lat = points[0]
        return f"geo point {lat:.4f}, {lon:.4f} (latitude, longitude)"
    return f"geo polygon of {max(len(points) - 1, 0)} vertices"
