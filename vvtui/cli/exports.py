"""What the TUI's Export key writes beside a snapshot, chosen here: the TUI and the reports are
front ends side by side, so the CLI that starts the TUI hands it the report renderer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vvtui.model import Snapshot


def markdown_report(snapshot: Snapshot) -> str:
    # Imported on the first export, not at start-up: the TUI's first frame does not wait for it.
    from vvtui.reports.markdown import render_markdown

    return render_markdown(snapshot)
