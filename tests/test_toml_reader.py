"""The shared TOML reader (vvtui/toml_reader.py) the config and the probe suites both use."""

import pytest

from vvtui.errors import ConfigError
from vvtui.toml_reader import Locator, parse_toml

TEXT = '''top = 1

[[endpoint]]
name = "a"
notes = """
[[endpoint]]
name = "not a table"
"""

[[endpoint]]
name = "b"
[endpoint.headers]
x = "1"

[run]
seed = 3
'''


def test_a_syntax_error_is_one_line_naming_file_and_line():
    with pytest.raises(ConfigError, match=r"^c\.toml:2: not valid TOML: ") as info:
        parse_toml("a = 1\nb = \n", "c.toml", ConfigError)
    assert "\n" not in str(info.value) and "column" not in str(info.value)


def test_lines_of_tables_and_keys_skip_multi_line_strings():
    loc = Locator(TEXT)
    assert loc.line("endpoint", 1, "name") == 11
    assert loc.line("endpoint", 1, "x") == 13  # sub-tables belong to their endpoint
    assert loc.line("endpoint", 0, "missing") == 3
    assert loc.line("run", 0, "seed") == 16
    assert loc.line(None, 0, "top") == 1
    assert loc.line("endpoint", 2, None) is None
