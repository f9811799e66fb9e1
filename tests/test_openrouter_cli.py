import dataclasses
import json
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest

from tests.openrouter_support import KIMI, KIMI_PATH, FakeOpenRouter, fixture_json, fixture_text
from vvtui.cli import main, openrouter_cmd
from vvtui.config import load_config, parse_config
from vvtui.providers.openrouter import parse_endpoints
from vvtui.providers.openrouter_config import build_config, choose_reference
from vvtui.providers.routing import provider_mismatch
from vvtui.sim.http import ServerThread

SECRET = "sk-or-v1-feedfacefeedfacefeedfacefeedface"


@pytest.fixture
def fake(monkeypatch):
    fake = FakeOpenRouter().serve(KIMI_PATH, "kimi-k2-0905.json")
    monkeypatch.setattr(openrouter_cmd, "CLIENT_FACTORY", fake.factory())
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    return fake


def run(capsys, *argv):
    code = main(["openrouter", "endpoints", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---- table and JSON --------------------------------------------------------------------------


def test_table_lists_every_provider_aligned(fake, capsys):
    code, out, err = run(capsys, KIMI)
    assert code == 0, err
    lines = out.splitlines()
    header = lines[0]
    assert header.split()[:3] == ["PROVIDER", "TAG", "QUANT"]
    rows = lines[1:8]
    assert [r.split("  ")[0].strip() for r in rows] == [
        "DeepInfra",
        "Chutes",
        "Moonshot AI",
        "Groq",
        "Together",
        "Fireworks",
        "Novita",
    ]
    # Columns line up: each row has the TAG column where the header has it.
    tag_col = header.index("TAG")
    assert all(r[tag_col - 2 : tag_col] == "  " for r in rows)
    moonshot = rows[2]
    assert "fp8" in moonshot and "0.60" in moonshot and "2.50" in moonshot
    assert "262,144" in moonshot and "905 ms" in moonshot and "L T J S" in moonshot
    assert "status -1" in rows[6]
    assert ":exacto is offered" in out
    assert fake.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in out + err


def test_json_output_sorted_and_capped(fake, capsys):
    code, out, _ = run(capsys, KIMI, "--json", "--sort", "price", "--max", "2")
    assert code == 0
    data = json.loads(out)
    assert data["model"] == KIMI and data["exacto_offered"] is True
    assert [e["tag"] for e in data["endpoints"]] == ["chutes/fp8", "deepinfra/fp4"]
    first = data["endpoints"][0]
    assert first["price_in"] == 0.38 and first["price_out"] == 1.52
    assert first["supports_logprobs"] is False and first["supports_tools"] is True


def test_without_a_key_it_says_so_and_still_lists(fake, capsys, monkeypatch):
    monkeypatch.delenv("OPENROUTER_API_KEY")
    code, out, err = run(capsys, KIMI, "--json")
    assert code == 0 and len(json.loads(out)["endpoints"]) == 7
    assert "OPENROUTER_API_KEY is not set" in err
    assert "authorization" not in fake.requests[0].headers


# ---- exit codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status", "text"),
    [
        ("error-404.json", 404, "has no model"),
        ("error-401.json", 401, "refused the request"),
        ("cloudflare-502.html", 200, "HTML page"),
        ("truncated.json", 200, "malformed JSON"),
    ],
)
def test_api_failures_exit_2_with_one_line(fake, capsys, fixture, status, text):
    fake.serve(KIMI_PATH, fixture, status)
    code, out, err = run(capsys, KIMI)
    assert code == 2 and out == ""
    assert err.startswith("vvtui: error:") and text in err
    assert err.count("\n") == 1 and SECRET not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["kimi-without-author"],
        [KIMI, "--max", "0"],
        [KIMI, "--force"],
        [KIMI, "--reference", "cerebras"],
        [KIMI, "--reference", "nonexistent/tag"],
        [KIMI, "--base-url", "openrouter.ai/api/v1"],
    ],
)
def test_usage_errors_exit_2(fake, capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2 and "vvtui: error:" in err


def test_empty_listing_exits_2(fake, capsys):
    fake.routes[KIMI_PATH] = (200, '{"data": {"id": "x/y", "endpoints": []}}', "application/json")
    code, _, err = run(capsys, KIMI)
    assert code == 2 and "lists no provider" in err


def test_bad_sort_is_rejected_by_argparse(fake, capsys):
    with pytest.raises(SystemExit) as info:
        main(["openrouter", "endpoints", KIMI, "--sort", "vibes"])
    assert info.value.code == 2


# ---- --write-config --------------------------------------------------------------------------


def test_written_config_loads_back_pinned(fake, capsys, tmp_path):
    path = tmp_path / "kimi.toml"
    code, out, err = run(capsys, KIMI, "--write-config", str(path), "--reference", "moonshotai")
    assert code == 0, err
    assert f"wrote {path}" in out
    config = load_config(path)
    names = [e.name for e in config.endpoints]
    # The reference comes first; every provider is there, plus the exacto variant.
    assert names[0] == "or-moonshotai" and names[-1] == "or-exacto"
    assert len(names) == 8
    assert config.reference.name == "or-moonshotai"
    assert sum(e.reference for e in config.endpoints) == 1
    by_name = {e.name: e for e in config.endpoints}
    di = by_name["or-deepinfra-fp4"]
    assert di.base_url == "https://openrouter.ai/api/v1"
    assert di.model == KIMI and di.api_key_env == "OPENROUTER_API_KEY"
    assert di.extra_body == {
        "provider": {
            "order": ["deepinfra/fp4"],
            "allow_fallbacks": False,
            "require_parameters": True,
        }
    }
    assert di.labels == {
        "quant": "fp4",
        "via": "openrouter",
        "provider": "DeepInfra",
        "context_length": "262144",  # sizes the conformance context probe
    }
    assert (di.price.input, di.price.output) == (0.5, 2.0)
    assert di.logprobs is True
    # Hosts that do not list logprobs must not be asked for them (require_parameters would
    # turn every request into an error).
    assert by_name["or-groq"].logprobs is False and by_name["or-chutes-fp8"].logprobs is False
    assert by_name["or-groq"].labels["quant"] == "unknown"
    exacto = by_name["or-exacto"]
    assert exacto.model == KIMI + ":exacto" and exacto.price is None
    assert "order" not in exacto.extra_body["provider"]
    assert exacto.labels["route"] == "exacto"
    # What the runner will check against each response's upstream provider.
    assert not provider_mismatch(di, "DeepInfra") and provider_mismatch(di, "Together")
    assert SECRET not in path.read_text()


def test_reference_defaults_to_first_party_then_first_listed(tmp_path):
    endpoints = parse_endpoints(fixture_json("kimi-k2-0905.json"))
    ref, reason = choose_reference(KIMI, endpoints, None)
    assert ref.tag == "moonshotai" and "first-party" in reason
    others = [e for e in endpoints if e.tag != "moonshotai"]
    ref, reason = choose_reference(KIMI, others, None)
    assert ref.tag == "deepinfra/fp4" and "first listed" in reason
    text = build_config(KIMI, others, reference=ref, reference_reason=reason)
    # The choice is explained in a comment right above the reference endpoint.
    block = text.split("[[endpoint]]")[0]
    assert "Reference: no --reference given" in block and "first listed" in block
    assert tomllib.loads(text)["endpoint"][0]["reference"] is True


def test_reference_is_kept_when_max_cuts_it(fake, capsys, tmp_path):
    path = tmp_path / "c.toml"
    code, _, err = run(
        capsys, KIMI, "--sort", "throughput", "--max", "2", "--write-config", str(path)
    )
    assert code == 0, err
    names = [e.name for e in load_config(path).endpoints]
    assert names == ["or-moonshotai", "or-groq", "or-exacto"]


def test_refuses_to_overwrite_without_force(fake, capsys, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("keep me")
    code, _, err = run(capsys, KIMI, "--write-config", str(path))
    assert code == 2 and "already exists" in err and "--force" in err
    assert path.read_text() == "keep me"
    assert fake.requests == []  # refused before any request
    code, _, _ = run(capsys, KIMI, "--write-config", str(path), "--force")
    assert code == 0 and len(load_config(path).endpoints) == 8


def test_json_with_write_config_keeps_stdout_pure_json(fake, capsys, tmp_path):
    path = tmp_path / "c.toml"
    code, out, err = run(capsys, KIMI, "--json", "--write-config", str(path))
    assert code == 0
    assert json.loads(out)["reference"] == "moonshotai"
    assert "wrote" in err


def test_custom_key_env_is_written(fake, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_OR_KEY", SECRET)
    path = tmp_path / "c.toml"
    code, _, _ = run(capsys, KIMI, "--api-key-env", "MY_OR_KEY", "--write-config", str(path))
    assert code == 0
    assert {e.api_key_env for e in load_config(path).endpoints} == {"MY_OR_KEY"}
    assert fake.requests[0].headers["authorization"] == f"Bearer {SECRET}"


def test_no_exacto_endpoint_when_not_offered(tmp_path):
    endpoints = parse_endpoints(fixture_json("kimi-k2-0905.json"))[:1]
    ref, reason = choose_reference("acme/model", endpoints, None)
    text = build_config("acme/model", endpoints, reference=ref, reference_reason=reason)
    assert ":exacto" not in text.replace("# ", "")
    assert len(tomllib.loads(text)["endpoint"]) == 1


def test_duplicate_tags_get_unique_names():
    endpoints = parse_endpoints(fixture_json("kimi-k2-0905.json"))
    twin = dataclasses.replace(endpoints[0], provider="DeepInfra (second)")
    text = build_config(
        "acme/model", [endpoints[0], twin], reference=endpoints[0], reference_reason="test"
    )
    config = parse_config(text)
    assert [e.name for e in config.endpoints] == ["or-deepinfra-fp4", "or-deepinfra-fp4-2"]


# ---- through real HTTP -----------------------------------------------------------------------


def test_cli_against_a_loopback_server(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    body = fixture_text("kimi-k2-0905.json")
    seen: list[str] = []
    lock = threading.Lock()

    def factory():
        async def handler(request, response):
            with lock:
                seen.append(request.path)
            if request.path == KIMI_PATH:
                await response.send(200, body)
            else:
                await response.send_json(404, {"error": {"code": 404, "message": "no"}})

        return handler

    with ServerThread(factory) as server:
        base = f"{server.url}/api/v1"
        path = tmp_path / "loop.toml"
        code, _, err = run(capsys, KIMI + ":nitro", "--base-url", base, "--write-config", str(path))
        assert code == 0, err
        code_404, _, err_404 = run(capsys, "acme/none", "--base-url", base)
    assert seen == [KIMI_PATH, "/api/v1/models/acme/none/endpoints"]
    assert load_config(path).endpoints[0].base_url == base
    assert code_404 == 2 and "has no model 'acme/none'" in err_404


def test_registering_the_command_imports_no_http_stack():
    code = (
        "import sys\n"
        "from vvtui.cli import build_parser\n"
        "build_parser()\n"
        "heavy = [m for m in ('httpx', 'vvtui.providers.openrouter') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env={"PYTHONPATH": root}, timeout=60
    )
    assert done.returncode == 0
