"""Points and polygons (GeoJSON, RFC 7946 order: longitude, latitude) against region
boundaries kept as rules data, in pure Python.

A facility's ``geo`` is a Point or a Polygon; it lies in a region when the point, or
any vertex of the polygon, or the polygon's vertex centroid, falls inside the
region's boundary (even-odd rule; holes of the boundary count as outside).
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


def geometry_points(geo: dict[str, Any]) -> list[Point]:
    """The points that place a facility: a Point, or a polygon's vertices and centroid."""
    try:
        if geo.get("type") == "Point":
            lon, lat = geo["coordinates"]
            return [(float(lon), float(lat))]
        if geo.get("type") == "Polygon":
            ring = [(float(lon), float(lat)) for lon, lat in geo["coordinates"][0]]
            if not ring:
                return []
            centroid = (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
            return [*ring, centroid]
    except (KeyError, TypeError, ValueError, IndexError):
        return []
    return []


def inside(geo: dict[str, Any], boundary: Boundary) -> bool:
    """True when the geometry ``geo`` places the site inside ``boundary``."""
    return any(boundary.contains(p) for p in geometry_points(geo))


def describe(geo: dict[str, Any]) -> str:
    points = geometry_points(geo)
    if geo.get("type") == "Point" and points:
        lon, lat = points[0]
        return f"geo point {lat:.4f}, {lon:.4f} (latitude, longitude)"
    return f"geo polygon of {max(len(points) - 1, 0)} vertices"
