"""Identicons: a symmetric 5x5 pattern and a colour, drawn from a keyed hash as SVG."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def identicon_svg(key: str, size: int = 40) -> str:
    """A compact inline SVG for ``key`` (a hex keyed hash); same key, same picture.

    One path on a 5x5 grid, mirrored left to right; the background comes from CSS.
    """
    digest = bytes.fromhex(key.ljust(32, "0")[:32])
    hue = int.from_bytes(digest[:2], "big") % 360
    cells = []
    for row in range(5):
        for column in range(3):
            if (digest[2 + row] >> column) & 1:
                for x in sorted({column, 4 - column}):
                    cells.append(f"M{x} {row}h1v1h-1z")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 5 5" '
        f'shape-rendering="crispEdges"><rect width="5" height="5" fill="#f0f0f1"/>'
        f'<path fill="hsl({hue} 55% 50%)" '
        f'd="{"".join(cells)}"/></svg>'
    )
