"""A compositor that repaints a screen's changes band by band (issue #17).

Textual's compositor repaints every widget that overlaps the box around *all* of an update's
dirty regions. On the run screen one update often holds the run bar (top line), a probe mark in
the sidebar, a row of answer panes and a scoreboard row (bottom): their box is the whole screen,
so each of 16 panes, their header and stats lines and the scoreboard were rendered again (~60 ms
a frame with 16 streaming panes, the event loop's longest stall) to change a few lines. Here the
dirty regions are grouped into horizontal bands of nearby lines, and each band is rendered within
its own box. The lines sent to the terminal are the same; only fewer widgets are asked for them.
"""

from __future__ import annotations

from typing import Any

import textual._compositor as _textual_compositor
from textual._compositor import Compositor
from textual.geometry import Region

# Textual's private pieces this leans on. A Textual release without them gets Textual's own
# compositor (`compositor()` below): slower frames, never a broken screen.
ChopsUpdate: Any = getattr(_textual_compositor, "ChopsUpdate", None)
_NEEDS = ("_dirty_regions", "_regions_to_spans", "_render_chops", "cuts", "size")

# Dirty regions this many lines apart or closer share a band: each band renders the containers
# around it again (screen, body, grid: cheap but not free), so lines of one pane row stay together.
BAND_GAP = 3


def bands(regions: set[Region]) -> list[list[Region]]:
    """The regions grouped into bands whose line ranges are disjoint (sorted top down)."""
    out: list[list[Region]] = []
    end = 0
    for region in sorted(regions, key=lambda r: r.y):
        if not region.height:
            continue
        if out and region.y <= end + BAND_GAP:
            out[-1].append(region)
            end = max(end, region.bottom)
        else:
            out.append([region])
            end = region.bottom
    return out


class BandedCompositor(Compositor):
    def render_partial_update(self) -> Any:
        update_regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        if not update_regions:
            return None
        screen_region = self.size.region
        spans = list(self._regions_to_spans(update_regions))
        if not spans:
            return None
        lines = {y for y, _, _ in spans}
        chops: list | None = None
        for band in bands(update_regions):
            crop = Region.from_union(band).intersection(screen_region)
            if not crop:
                continue
            top, bottom = crop.y, crop.bottom

            def rendered(y: int, top: int = top, bottom: int = bottom) -> bool:
                # A widget taller than the band (the screen, the grid) would fill its other
                # lines too: those belong to other bands.
                return top <= y < bottom and y in lines

            band_chops = self._render_chops(crop, rendered)
            if chops is None:
                chops = list(band_chops)
            else:
                chops[top:bottom] = band_chops[top:bottom]
        if chops is None:
            return None
        chop_ends = [cut_set[1:] for cut_set in self.cuts]
        return ChopsUpdate(chops, spans, chop_ends)


def compositor() -> Compositor:
    """The banded compositor when this Textual has what it overrides, else Textual's own."""
    plain = Compositor()
    if ChopsUpdate is None or not all(hasattr(plain, name) for name in _NEEDS):
        return plain
    return BandedCompositor()
