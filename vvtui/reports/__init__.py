"""Reports made from snapshots: tables, gates, JUnit, Markdown/HTML/CSV, drift diffs."""
