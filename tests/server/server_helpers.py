"""Geometry helpers shared by the server integration tests (not fixtures)."""

from __future__ import annotations

import math

from server.protocol import Vec3


def up(p: Vec3) -> Vec3:
    """Unit vector from the planet centre through ``p``."""
    n = math.sqrt(sum(v * v for v in p))
    return (p[0] / n, p[1] / n, p[2] / n)


def below(p: Vec3, metres: float) -> Vec3:
    """``p`` moved ``metres`` toward the planet centre."""
    u = up(p)
    return (p[0] - u[0] * metres, p[1] - u[1] * metres, p[2] - u[2] * metres)


def along_surface(p: Vec3, metres: float) -> Vec3:
    """``p`` moved about ``metres`` along the sphere (toward +y), same radius."""
    r = math.sqrt(sum(v * v for v in p))
    u = up(p)
    # tangent toward +y: project (0, 1, 0) onto the tangent plane
    t = (-u[1] * u[0], 1.0 - u[1] * u[1], -u[1] * u[2])
    tn = math.sqrt(sum(v * v for v in t))
    ang = metres / r
    c, s = math.cos(ang), math.sin(ang)
    return tuple(r * (u[i] * c + t[i] / tn * s) for i in range(3))  # type: ignore[return-value]
