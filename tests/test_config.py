from pathlib import Path

import pytest

from vvtui.config import EXAMPLE_CONFIG, load_config, missing_keys, parse_config
from vvtui.errors import ConfigError


def test_example_config_parses():
    config = parse_config(EXAMPLE_CONFIG, Path("example.toml"))
    assert config.reference.name == "first-party"
    assert [e.name for e in config.endpoints] == ["first-party", "or-groq"]
    assert config.endpoints[1].extra_body["provider"]["allow_fallbacks"] is False


def test_unknown_key_names_file_line_and_suggestion():
    text = '[[endpoint]]\nname = "a"\nbase_url = "http://x"\nmodel = "m"\nrefrence = true\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("c.toml"))
    message = str(info.value)
    assert message.startswith("c.toml:5:")
    assert "'refrence'" in message and "did you mean 'reference'" in message


def test_broken_toml_names_line():
    with pytest.raises(ConfigError, match=r"c.toml:2: not valid TOML"):
        parse_config('[[endpoint]]\nname = "a\n', Path("c.toml"))


def test_wrong_type_and_missing_field():
    with pytest.raises(ConfigError, match=r":4:.*max_concurrency must be an integer"):
        parse_config(
            '[[endpoint]]\nname="a"\nbase_url="http://x"\nmax_concurrency="4"\nmodel="m"\n',
            Path("c.toml"),
        )
    with pytest.raises(ConfigError, match="missing 'model'"):
        parse_config('[[endpoint]]\nname="a"\nbase_url="http://x"\n', Path("c.toml"))


def test_first_endpoint_is_reference_by_default_and_two_refs_rejected():
    one = parse_config(
        '[[endpoint]]\nname="a"\nbase_url="http://x"\nmodel="m"\n'
        '[[endpoint]]\nname="b"\nbase_url="http://y"\nmodel="m"\n'
    )
    assert one.reference.name == "a"
    with pytest.raises(ConfigError, match="more than one"):
        parse_config(
            '[[endpoint]]\nname="a"\nbase_url="http://x"\nmodel="m"\nreference=true\n'
            '[[endpoint]]\nname="b"\nbase_url="http://y"\nmodel="m"\nreference=true\n'
        )


def test_credential_header_in_file_is_refused():
    with pytest.raises(ConfigError, match="holds a credential"):
        parse_config(
            '[[endpoint]]\nname="a"\nbase_url="http://x"\nmodel="m"\n'
            'headers = { Authorization = "Bearer sk-live-123456" }\n'
        )


def test_missing_keys_reports_names_only(monkeypatch, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[[endpoint]]\nname="a"\nbase_url="http://x"\nmodel="m"\napi_key_env="VV_TEST_KEY_A"\n'
    )
    monkeypatch.delenv("VV_TEST_KEY_A", raising=False)
    assert missing_keys(load_config(path)) == [("a", "VV_TEST_KEY_A")]
    monkeypatch.setenv("VV_TEST_KEY_A", "secret-value-xyz")
    assert missing_keys(load_config(path)) == []


def test_repr_hides_header_values():
    config = parse_config(
        '[[endpoint]]\nname="a"\nbase_url="http://x"\nmodel="m"\n'
        'headers = { "X-Api-Key" = "${MY_KEY}", "X-Title" = "vv" }\n'
    )
    assert "MY_KEY" not in repr(config.endpoints[0])
    assert config.endpoints[0].info().header_names == ["X-Api-Key", "X-Title"]


def test_missing_file_says_how_to_create():
    with pytest.raises(ConfigError, match="vvtui config init"):
        load_config("/nonexistent/vvtui.toml")


def test_config_locate_lists_each_kind_of_file_under_its_own_label(monkeypatch, tmp_path, capsys):
    from vvtui.cli import main
    from vvtui.resources import data_dir

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VVTUI_CONFIG", raising=False)
    assert main(["config", "locate"]) == 0
    sections: dict[str, list[str]] = {}
    label = ""
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith(" "):
            label, _, line = line.partition(":")
        sections.setdefault(label, []).append(line.strip())
    mine = tmp_path / "cfg" / "vvtui"
    assert sections["config"] == [str(mine / "config.toml")]
    assert sections["themes"] == [f"{mine / 'themes'} (yours)", f"{data_dir('themes')} (shipped)"]
    assert sections["probes"] == [
        f"{mine / 'probes'} (yours)",
        f"{data_dir('probes')} (shipped suites)",
    ]
    assert sections["cache"] == [str(tmp_path / "cache" / "vvtui")]
