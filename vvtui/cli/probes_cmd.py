"""`vvtui probes list|show|validate|import-k2vv`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

GROUP_EPILOG = """\
examples:
  vvtui probes list --suite quick            the probes of one suite
  vvtui probes show quant-arith-chain        one probe, rendered, as JSON
  vvtui probes validate my-suite.toml        check a suite of your own
  vvtui probes import-k2vv samples.jsonl -o k2vv.toml
"""
LIST_EPILOG = """\
examples:
  vvtui probes list                       every available probe
  vvtui probes list --suite quick --json  one suite, as JSON
  vvtui probes list --suite ./my-probes/  a folder of your own suites
"""
SHOW_EPILOG = """\
examples:
  vvtui probes show quant-arith-chain             rendered with seed 0
  vvtui probes show quant-arith-chain --seed 7    another draw of its templates
"""
VALIDATE_EPILOG = """\
examples:
  vvtui probes validate my-suite.toml
  vvtui probes validate ./probes/ --strict   the rules shipped suites follow
  vvtui probes validate                      the shipped suites and your user folder

exit codes: 0 every file is valid, 2 problems found (each printed on one line)
"""
IMPORT_EPILOG = """\
examples:
  vvtui probes import-k2vv samples.jsonl -o k2vv.toml
  vvtui probes import-k2vv samples.jsonl -o ~/.config/vvtui/probes/k2vv.toml --suite-name k2vv
  vvtui run --suite k2vv.toml

Each JSONL line (a Chat Completions request body, or a K2VV results record with the official
response) becomes one tool_call probe. Bad lines are reported as FILE:LINE; nothing is written
while there are any, unless --skip-bad.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "probes",
        help="list, show, validate or import probe suites",
        epilog=GROUP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    psub = parser.add_subparsers(dest="probes_command", metavar="ACTION", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    ls = psub.add_parser("list", help="list probes", epilog=LIST_EPILOG, formatter_class=fmt)
    ls.add_argument(
        "--suite",
        action="append",
        metavar="S",
        help="suite name, .toml file or folder (repeatable; default: all)",
    )
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.set_defaults(func=cmd_list)

    show = psub.add_parser(
        "show", help="print one rendered probe as JSON", epilog=SHOW_EPILOG, formatter_class=fmt
    )
    show.add_argument("probe_id", metavar="ID")
    show.add_argument("--suite", action="append", metavar="S", help="where to look (default: all)")
    show.add_argument("--seed", type=int, default=0, help="template seed (default 0)")
    show.set_defaults(func=cmd_show)

    val = psub.add_parser(
        "validate",
        help="check probe files and report every problem",
        epilog=VALIDATE_EPILOG,
        formatter_class=fmt,
    )
    val.add_argument("paths", nargs="*", metavar="PATH", help=".toml files or folders")
    val.add_argument(
        "--strict",
        action="store_true",
        help="also require a description, max_tokens and an answer on deterministic probes",
    )
    val.set_defaults(func=cmd_validate)

    imp = psub.add_parser(
        "import-k2vv",
        help="convert a K2 Vendor Verifier JSONL set into a probe suite",
        epilog=IMPORT_EPILOG,
        formatter_class=fmt,
    )
    imp.add_argument("file", metavar="FILE.jsonl")
    imp.add_argument("-o", "--out", required=True, metavar="SUITE.toml", help="suite to write")
    imp.add_argument("--suite-name", help="suite name and probe id prefix (default: file name)")
    imp.add_argument("--force", action="store_true", help="overwrite an existing file")
    imp.add_argument(
        "--skip-bad", action="store_true", help="write the good lines even if some are bad"
    )
    imp.set_defaults(func=cmd_import_k2vv)


def cmd_list(args: argparse.Namespace) -> int:
    import json

    from vvtui.suites import load_templates

    templates = load_templates(args.suite or ["all"])
    rows = [
        {
            "id": t.id,
            "kind": t.raw.get("kind", "chat"),
            "tags": list(dict.fromkeys([*t.suite_tags, *t.raw.get("tags", [])])),
            "suite": t.suite,
            "description": t.raw.get("description", ""),
            "source": t.source,
        }
        for t in templates
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print("no probes")
        return 0
    width = max(len(r["id"]) for r in rows)
    print(f"{'ID':<{width}}  {'KIND':<9}  {'SUITE':<10}  TAGS")
    for r in rows:
        print(f"{r['id']:<{width}}  {r['kind']:<9}  {r['suite']:<10}  {', '.join(r['tags'])}")
    print(f"{len(rows)} probe(s)")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    import json

    from vvtui.errors import ProbeError, suggest
    from vvtui.suites import load_templates, render

    templates = {t.id: t for t in load_templates(args.suite or ["all"])}
    if args.probe_id not in templates:
        raise ProbeError(
            f"no probe {args.probe_id!r}",
            hint=suggest(args.probe_id, templates) or "see `vvtui probes list`",
        )
    probe = render(templates[args.probe_id], args.seed)
    print(json.dumps(probe.to_dict(), ensure_ascii=False, indent=1))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from vvtui.suites import shipped_dir, user_dir, validate_report

    paths = args.paths or [p for p in (shipped_dir(), user_dir()) if p.is_dir()]
    problems, count = validate_report(paths, strict=args.strict)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 2
    print(f"ok: {count} probe(s) valid")
    return 0


def cmd_import_k2vv(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vvtui.errors import ProbeError
    from vvtui.storage import write_atomic
    from vvtui.suites.k2vv import import_k2vv

    out = Path(args.out)
    if out.exists() and not args.force:
        raise ProbeError(f"{out}: already exists", hint="pass --force to overwrite it")
    result = import_k2vv(Path(args.file), args.suite_name)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.problems and not args.skip_bad:
        print(
            f"{len(result.problems)} bad line(s); nothing written (--skip-bad writes the rest)",
            file=sys.stderr,
        )
        return 2
    if not result.probes:
        raise ProbeError(f"{args.file}: no requests to import")
    write_atomic(out, result.toml)
    print(f"wrote {out}: {result.probes} probe(s)")
    if result.problems:
        print(f"skipped {len(result.problems)} bad line(s)", file=sys.stderr)
    print(f"next: vvtui probes list --suite {out}")
    return 0
