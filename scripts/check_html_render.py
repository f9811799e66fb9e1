"""Render a vvtui HTML report in headless Chromium and check what a person would see.

    PYTHONPATH=. python scripts/check_html_render.py REPORT.html [--screenshot out.png]
    PYTHONPATH=. python scripts/check_html_render.py --snapshot SNAP.json [--screenshot out.png]

Takes a screenshot (look at it), dumps the DOM after scripts ran and checks it: the scoreboard
table with a row per endpoint, that a click on its fidelity heading sorts it, the inline SVG
charts, the probe sections, no console error, and no request leaving the file (Chromium is
started with networking features off and the DOM is searched for src/href pointing at
http(s)). Exits 0 when every check passes, 1 listing what
failed, 2 when Chromium is not installed (`apt-get install chromium` on Debian).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
)


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class RenderCheck:
    screenshot: Path | None
    dom: str = ""
    console: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _run(
    browser: str, args: list[str], profile: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    cmd = [
        browser,
        *FLAGS,
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def console_errors(stderr: str) -> list[str]:
    """Console messages and uncaught exceptions Chromium logged while loading the page."""
    found = []
    for line in stderr.splitlines():
        if "CONSOLE" in line or "Uncaught" in line:
            found.append(line.strip())
    return found


def check_dom(dom: str, endpoints: int | None = None) -> list[str]:
    """What the rendered page must hold; returns the problems found."""
    problems = []
    if 'id="scoreboard-table"' not in dom:
        problems.append("no scoreboard table in the DOM")
    else:
        table = dom.split('id="scoreboard-table"', 1)[1].split("</table>", 1)[0]
        rows = table.split("<tbody>", 1)[-1].count("<tr")
        if rows == 0:
            problems.append("the scoreboard has no rows")
        if endpoints is not None and rows != endpoints:
            problems.append(f"the scoreboard has {rows} rows, expected {endpoints}")
    charts = dom.count('<svg class="chart"')
    if charts < 4:
        problems.append(f"{charts} inline SVG charts, expected 4")
    if '<details class="probe"' not in dom:
        problems.append("no probe sections")
    for attr, url in re.findall(r'\b(src|href)\s*=\s*"((?:https?:)?//[^"]*)"', dom, re.I):
        problems.append(f"external reference {attr}={url!r}")
    if re.search(r"<link\b", dom, re.I):
        problems.append("a <link> element (style sheets must be inline)")
    if re.search(r"<script\b[^>]*\bsrc=", dom, re.I):
        problems.append("a <script src=...> (scripts must be inline)")
    return problems


# Appended to a copy of the page: click the fidelity heading once, as a person would.
_CLICK = """<script>
(function () {
  var th = Array.prototype.find.call(
    document.querySelectorAll("#scoreboard-table thead th"),
    function (h) { return h.textContent.trim().indexOf("fidelity") === 0; });
  th.querySelector("button").click();
})();
</script>"""


def sorted_column(dom: str, column: int) -> list[str]:
    """The data-v values of one scoreboard column, in row order."""
    table = dom.split('id="scoreboard-table"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[-1]
    values = []
    for row in body.split("<tr")[1:]:
        cells = re.findall(r'<td[^>]*data-v="([^"]*)"', row)
        values.append(cells[column] if column < len(cells) else "")
    return values


def check_sorting(dom: str) -> list[str]:
    """After one click on "fidelity" the rows are in ascending fidelity, unmeasured last."""
    head = dom.split('id="scoreboard-table"', 1)[1].split("</thead>", 1)[0]
    labels = re.findall(r"<th\b[^>]*>(?:<button[^>]*>)?([^<]*)", head)
    if "fidelity" not in labels:
        return ["no fidelity column in the scoreboard"]
    if 'aria-sort="ascending"' not in head:
        return ["clicking the fidelity heading did not mark it sorted"]
    values = sorted_column(dom, labels.index("fidelity"))
    numbers = [float(v) for v in values if v != ""]
    blanks_last = all(v == "" for v in values[len(numbers) :])
    if numbers != sorted(numbers) or not blanks_last:
        return [f"scoreboard not sorted by fidelity after a click: {values}"]
    return []


def render(
    html_path: Path,
    screenshot: Path | None,
    *,
    browser: str | None = None,
    endpoints: int | None = None,
    size: str = "1280,2000",
    timeout: float = 90.0,
) -> RenderCheck:
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError("no Chromium found (apt-get install chromium)")
    url = html_path.resolve().as_uri()
    check = RenderCheck(screenshot)
    with tempfile.TemporaryDirectory(prefix="vvtui-chromium-") as tmp:
        profile = Path(tmp)
        dumped = _run(browser, ["--dump-dom", "--virtual-time-budget=2000", url], profile, timeout)
        check.dom = dumped.stdout
        check.console = console_errors(dumped.stderr)
        if dumped.returncode != 0 or not check.dom.strip():
            check.problems.append(
                f"chromium --dump-dom exited {dumped.returncode}: {dumped.stderr.strip()[-400:]}"
            )
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            shot = _run(
                browser,
                [f"--screenshot={screenshot.resolve()}", f"--window-size={size}", url],
                profile,
                timeout,
            )
            if shot.returncode != 0 or not screenshot.exists() or screenshot.stat().st_size == 0:
                check.problems.append(
                    f"chromium --screenshot exited {shot.returncode}: {shot.stderr.strip()[-400:]}"
                )
            check.console += console_errors(shot.stderr)
        clicked = profile / "clicked.html"
        page = html_path.read_text(encoding="utf-8")
        clicked.write_text(page.replace("</body>", _CLICK + "</body>"), encoding="utf-8")
        sorted_dom = _run(
            browser,
            ["--dump-dom", "--virtual-time-budget=2000", clicked.as_uri()],
            profile,
            timeout,
        )
        if 'id="scoreboard-table"' in sorted_dom.stdout:
            check.problems += check_sorting(sorted_dom.stdout)
        check.console += console_errors(sorted_dom.stderr)
    if check.dom:
        check.problems += check_dom(check.dom, endpoints)
    check.problems += [f"console: {line}" for line in check.console]
    return check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="?", help="an HTML report")
    parser.add_argument("--snapshot", help="render this snapshot's report first")
    parser.add_argument("--screenshot", default="vvtui-report.png", help="PNG to write")
    parser.add_argument("--size", default="1280,2000", help="window size W,H")
    args = parser.parse_args(argv)
    browser = find_browser()
    if browser is None:
        print("check_html_render: no Chromium found (apt-get install chromium)", file=sys.stderr)
        return 2
    endpoints = None
    if args.snapshot:
        from vvtui.reports.html import render_html
        from vvtui.storage import load_snapshot, write_atomic

        snap = load_snapshot(args.snapshot)
        endpoints = len(snap.endpoints)
        html_path = Path(args.html or Path(args.snapshot).with_suffix(".html"))
        write_atomic(html_path, render_html(snap))
    elif args.html:
        html_path = Path(args.html)
    else:
        parser.error("give an HTML file or --snapshot")
    check = render(
        html_path, Path(args.screenshot), browser=browser, endpoints=endpoints, size=args.size
    )
    print(f"rendered {html_path} -> {args.screenshot} ({len(check.dom)} characters of DOM)")
    for problem in check.problems:
        print(f"problem: {problem}")
    print("ok" if check.ok else f"{len(check.problems)} problems")
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
