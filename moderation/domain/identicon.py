"""Identicons: a symmetric 5x5 pattern and a colour, drawn from a keyed hash as SVG."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def identicon_svg(key: str, size: int = 40) -> str:
    """An inline SVG for ``key`` (a hex keyed hash); same key, same picture."""
    digest = bytes.fromhex(key.ljust(32, "0")[:32])
    hue = int.from_bytes(digest[:2], "big") % 360
    colour = f"hsl({hue} 55% 50%)"
    cell = size // 5
    rects = []
    for row in range(5):
        for column in range(3):
            bit = (digest[2 + row] >> column) & 1
            if bit:
                for x in {column, 4 - column}:
                    rects.append(
                        f'<rect x="{x * cell}" y="{row * cell}" width="{cell}" height="{cell}"/>'
                    )
    return (
        f'<svg class="avatar" xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" aria-hidden="true" focusable="false">'
        f'<rect width="{size}" height="{size}" fill="#f0f0f1"/>'
        f'<g fill="{colour}">{"".join(rects)}</g></svg>'
    )
