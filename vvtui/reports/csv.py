"""`vvtui.reports.csv.render_csv`, the name front ends call; the code lives in csv_report.py
(a module named like the standard library's `csv` is easy to confuse with it)."""

from vvtui.reports.csv_report import LEVELS, render_csv, render_csv_data

__all__ = ["LEVELS", "render_csv", "render_csv_data"]
