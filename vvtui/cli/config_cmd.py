"""`vvtui config init|check|locate`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

EPILOG = """\
examples:
  vvtui config init                 write a commented example config to the user config dir
  vvtui config check                is it valid, and which key variables are unset?
  vvtui config locate               where the config, themes, cache and shipped suites live

Which config: --config FILE, else $VVTUI_CONFIG, else config.toml in the user config dir.
"""
INIT_EPILOG = """\
examples:
  vvtui config init                      the user config dir (`vvtui config locate` prints it)
  vvtui config init --config ci.toml     a config of its own for CI
  vvtui config init --force              start again from the example (overwrites)
"""
CHECK_EPILOG = """\
examples:
  vvtui config check                     the config vvtui would use
  vvtui config check --config ci.toml    another one

Prints each endpoint (protocol, model, key variable, price), then `ok`; every key variable that
is not set is named on stderr. Nothing is sent to any endpoint (`vvtui endpoints check` does).
exit codes: 0 valid and every key set, 2 invalid (file, line and key named) or a key unset
"""
LOCATE_EPILOG = """\
examples:
  vvtui config locate                    every path, one per line (label: path)
  $EDITOR "$(vvtui config locate | sed -n 's/^config: *//p')"   edit the config
"""


def register(sub: Any) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = sub.add_parser(
        "config",
        help="create, check or locate the endpoints config",
        epilog=EPILOG,
        formatter_class=fmt,
    )
    csub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)

    init = csub.add_parser(
        "init", help="write a commented example config", epilog=INIT_EPILOG, formatter_class=fmt
    )
    init.add_argument("--config", help="where to write it (default: the user config dir)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(func=cmd_init)

    check = csub.add_parser(
        "check",
        help="validate the config and list keys missing from the environment",
        epilog=CHECK_EPILOG,
        formatter_class=fmt,
    )
    check.add_argument("--config", help="config file (default: $VVTUI_CONFIG or user config dir)")
    check.set_defaults(func=cmd_check)

    locate = csub.add_parser(
        "locate",
        help="print where vvtui reads and writes its files",
        epilog=LOCATE_EPILOG,
        formatter_class=fmt,
    )
    locate.add_argument("--config", help="config file override to resolve")
    locate.set_defaults(func=cmd_locate)


def cmd_init(args: argparse.Namespace) -> int:
    from vvtui.config import EXAMPLE_CONFIG, resolve_config_path
    from vvtui.errors import ConfigError
    from vvtui.storage import write_atomic

    path = resolve_config_path(args.config)
    if path.exists() and not args.force:
        raise ConfigError(f"{path}: already exists", hint="pass --force to overwrite it")
    write_atomic(path, EXAMPLE_CONFIG)
    print(f"wrote {path}")
    print("next: set the environment variables it names, then `vvtui config check`")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from vvtui.config import load_config, missing_keys, resolve_config_path

    path = resolve_config_path(args.config)
    config = load_config(path)
    print(f"{path}: {len(config.endpoints)} endpoint(s), reference: {config.reference.name}")
    for e in config.endpoints:
        key = f"key from ${e.api_key_env}" if e.api_key_env else "no key"
        price = f"${e.price.input:g}/${e.price.output:g} per Mtok" if e.price else "price: not set"
        print(f"  {e.name:<20} {e.protocol:<9} {e.model:<36} {key}; {price}")
    missing = missing_keys(config)
    for name, var in missing:
        print(f"  missing: ${var} (endpoint {name}) is not set in the environment", file=sys.stderr)
    if missing:
        return 2
    print("ok")
    return 0


def cmd_locate(args: argparse.Namespace) -> int:
    from platformdirs import user_cache_path, user_config_path

    from vvtui.config import resolve_config_path
    from vvtui.resources import data_dir

    config_dir = user_config_path("vvtui", appauthor=False)
    # Each kind of file under its own label, the user's folder first: that is the one to edit.
    print(f"config:  {resolve_config_path(args.config)}")
    print(f"themes:  {config_dir / 'themes'} (yours)")
    print(f"         {data_dir('themes')} (shipped)")
    print(f"probes:  {config_dir / 'probes'} (yours)")
    print(f"         {data_dir('probes')} (shipped suites)")
    print(f"cache:   {user_cache_path('vvtui', appauthor=False)}")
    return 0
