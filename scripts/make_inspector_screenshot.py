"""Regenerate docs/img/tui-inspect.svg: the divergence inspector on the simulated int4 endpoint's
first divergence when copying digits (a saved run of the simulated ladder, replayed: the same
frame every time).

    .venv/bin/python scripts/make_inspector_screenshot.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "tui" / "quick-ladder-logprobs.json"
OUT = ROOT / "docs" / "img" / "tui-inspect.svg"
PROBE = "quant-copy-digits"
SIZE = (120, 36)


async def main() -> None:
    from vvtui.storage import load_snapshot
    from vvtui.tui.app import AppOptions, VvtuiApp
    from vvtui.tui.controller import RunController
    from vvtui.tui.themes import shipped_themes_dir

    with tempfile.TemporaryDirectory() as tmp:
        snapshot = load_snapshot(FIXTURE)
        controller = RunController(snapshot=snapshot, export_dir=Path(tmp))
        app = VvtuiApp(
            controller, AppOptions(export_dir=Path(tmp), theme_dirs=[shipped_themes_dir()])
        )
        async with app.run_test(size=SIZE) as pilot:
            app.screen._show_probe(PROBE)  # type: ignore[attr-defined]
            await pilot.pause()
            pane = controller.model.endpoint_names.index("int4") + 1
            await pilot.press(str(pane), "i")
            await pilot.pause(0.5)
            app.save_screenshot(filename=OUT.name, path=str(OUT.parent))
    print(OUT)


if __name__ == "__main__":
    asyncio.run(main())
