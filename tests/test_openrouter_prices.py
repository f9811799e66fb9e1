import json

import httpx
import pytest

from tests.openrouter_support import KIMI, KIMI_PATH, FakeOpenRouter, fixture_json
from vvtui.config import parse_config
from vvtui.model import Price
from vvtui.providers.openrouter import parse_endpoints
from vvtui.providers.prices import (
    CACHE_VERSION,
    DEFAULT_TTL_S,
    default_cache_path,
    fill_prices,
    load_cache,
    select_price,
)

T0 = 1_750_000_000.0
SECRET = "sk-or-v1-c0ffeec0ffeec0ffeec0ffeec0ffee00"


def make_config(*endpoint_lines: str):
    blocks = []
    for i, extra in enumerate(endpoint_lines):
        blocks.append(
            f'[[endpoint]]\nname = "e{i}"\nbase_url = "https://openrouter.ai/api/v1"\n'
            f'api_key_env = "OPENROUTER_API_KEY"\n{extra}\n'
        )
    return parse_config("\n".join(blocks))


def pinned(tag: str, model: str = KIMI) -> str:
    return (
        f'model = "{model}"\n'
        f'extra_body = {{ provider = {{ order = ["{tag}"], allow_fallbacks = false }} }}'
    )


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    return FakeOpenRouter().serve(KIMI_PATH, "kimi-k2-0905.json")


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache" / "openrouter-prices.json"


def write_cache(path, fetched_at, listing="kimi-k2-0905.json", model=KIMI):
    endpoints = parse_endpoints(fixture_json(listing))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "version": CACHE_VERSION,
                "models": {
                    model: {
                        "fetched_at": fetched_at,
                        "endpoints": [e.to_dict() for e in endpoints],
                    }
                },
            }
        )
    )


async def fill(fake, config, cache, now=T0, **kwargs):
    async with fake.client() as http:
        return await fill_prices(config, http, now=lambda: now, cache_path=cache, **kwargs)


# ---- fetching and caching --------------------------------------------------------------------


async def test_fills_the_pinned_price_and_caches_the_listing(fake, cache):
    config = make_config(pinned("deepinfra/fp4"), pinned("moonshotai"))
    notes = await fill(fake, config, cache)
    di, ms = config.endpoints
    assert di.price == Price(0.5, 2.0, "openrouter")
    assert ms.price == Price(0.6, 2.5, "openrouter")
    assert len(fake.requests) == 1  # one request per model, not per endpoint
    assert fake.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert notes == [
        "e0: $0.5/$2 per Mtok from OpenRouter (deepinfra/fp4)",
        "e1: $0.6/$2.5 per Mtok from OpenRouter (moonshotai)",
    ]
    data = json.loads(cache.read_text())
    assert data["version"] == CACHE_VERSION
    assert data["models"][KIMI]["fetched_at"] == T0
    assert len(data["models"][KIMI]["endpoints"]) == 7
    assert SECRET not in cache.read_text()


async def test_a_fresh_cache_answers_without_a_request(fake, cache):
    write_cache(cache, T0 - DEFAULT_TTL_S + 60)
    config = make_config(pinned("groq"))
    notes = await fill(fake, config, cache)
    assert fake.requests == []
    assert config.endpoints[0].price == Price(1.0, 3.0, "openrouter")
    assert notes == ["e0: $1/$3 per Mtok from OpenRouter (groq)"]


async def test_a_stale_cache_is_refreshed_when_online(fake, cache):
    write_cache(cache, T0 - DEFAULT_TTL_S - 1, listing="sparse.json")
    config = make_config(pinned("groq"))
    await fill(fake, config, cache)
    assert len(fake.requests) == 1
    assert config.endpoints[0].price == Price(1.0, 3.0, "openrouter")
    assert json.loads(cache.read_text())["models"][KIMI]["fetched_at"] == T0


async def test_a_cache_from_the_future_counts_as_stale(fake, cache):
    write_cache(cache, T0 + 3600)  # the clock went backwards
    await fill(fake, make_config(pinned("groq")), cache)
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("[Errno -3] Temporary failure in name resolution"),
        httpx.ReadTimeout("timed out"),
    ],
)
async def test_offline_uses_the_stale_cache_with_a_warning(fake, cache, failure):
    write_cache(cache, T0 - 3 * 86400)
    fake.routes[KIMI_PATH] = failure
    config = make_config(pinned("together"))
    notes = await fill(fake, config, cache)
    assert config.endpoints[0].price == Price(1.0, 3.0, "openrouter")
    assert notes[0].startswith("warning: ")
    assert "cached 3 days ago" in notes[0]
    assert json.loads(cache.read_text())["models"][KIMI]["fetched_at"] == T0 - 3 * 86400


async def test_offline_with_no_cache_leaves_the_price_unset(fake, cache):
    fake.routes[KIMI_PATH] = httpx.ConnectError("Connection refused")
    config = make_config(pinned("together"))
    notes = await fill(fake, config, cache)
    assert config.endpoints[0].price is None
    assert notes == [
        "no price for e0: cannot reach openrouter.ai: Connection refused "
        "(check the network and retry)"
    ]
    assert not cache.exists()


async def test_an_unknown_model_does_not_fall_back_to_stale_prices(fake, cache):
    write_cache(cache, T0 - 3 * 86400)
    fake.serve(KIMI_PATH, "error-404.json", 404)
    config = make_config(pinned("together"))
    notes = await fill(fake, config, cache)
    assert config.endpoints[0].price is None
    assert "has no model" in notes[0]


async def test_errors_never_leak_the_key(fake, cache):
    body = '{"error": {"code": 401, "message": "bad key ' + SECRET + '"}}'
    fake.routes[KIMI_PATH] = (401, body, "application/json")
    notes = await fill(fake, make_config(pinned("together")), cache)
    assert notes and all(SECRET not in n for n in notes)


async def test_a_corrupt_cache_is_noted_and_replaced(fake, cache):
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    config = make_config(pinned("groq"))
    notes = await fill(fake, config, cache)
    assert notes[0].startswith("ignoring corrupt price cache")
    assert config.endpoints[0].price is not None
    assert load_cache(cache)[0][KIMI].fetched_at == T0


async def test_an_unwritable_cache_is_only_a_note(fake, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = make_config(pinned("groq"))
    notes = await fill(fake, config, blocker / "sub" / "prices.json")
    assert config.endpoints[0].price is not None
    assert notes[-1].startswith("could not write the price cache")


async def test_only_priceless_openrouter_endpoints_are_touched(fake, cache):
    config = parse_config(
        '[[endpoint]]\nname = "set"\nbase_url = "https://openrouter.ai/api/v1"\n'
        f'model = "{KIMI}"\nprice = {{ input = 9, output = 9 }}\n'
        '[[endpoint]]\nname = "other"\nbase_url = "https://api.together.xyz/v1"\n'
        'model = "moonshotai/Kimi-K2-Instruct-0905"\n'
        '[[endpoint]]\nname = "sim"\nbase_url = "https://openrouter.ai/api/v1"\n'
        f'model = "{KIMI}"\nsimulated = true\n'
    )
    notes = await fill(fake, config, cache)
    assert notes == [] and fake.requests == []
    assert config.endpoint("set").price == Price(9.0, 9.0, "config")
    assert config.endpoint("other").price is None and config.endpoint("sim").price is None
    assert not cache.exists()


def test_default_cache_path_is_in_the_user_cache_dir():
    path = default_cache_path()
    assert path.name == "openrouter-prices.json" and "vvtui" in str(path)


# ---- choosing a price ------------------------------------------------------------------------


def listing():
    return parse_endpoints(fixture_json("kimi-k2-0905.json"))


def one(extra: str):
    return make_config(extra).endpoints[0]


def test_unpinned_takes_the_cheapest_and_says_the_router_may_cost_more():
    price, note = select_price(one(f'model = "{KIMI}"'), listing())
    assert price == Price(0.38, 1.52, "openrouter")
    assert "not pinned" in note and "the cheapest of 7" in note
    assert "up to $1/$3 per Mtok" in note


def test_nitro_and_sort_preferences_pick_the_favoured_host():
    price, note = select_price(one(f'model = "{KIMI}:nitro"'), listing())
    assert price == Price(1.0, 3.0, "openrouter") and "the fastest" in note and "(groq)" in note
    latency = f'model = "{KIMI}"\nextra_body = {{ provider = {{ sort = "latency" }} }}'
    price, note = select_price(one(latency), listing())
    assert "(groq)" in note and "the quickest" in note
    floor = f'model = "{KIMI}:floor"'
    assert select_price(one(floor), listing())[0] == Price(0.38, 1.52, "openrouter")
    exacto = f'model = "{KIMI}:exacto"'
    assert select_price(one(exacto), listing())[0] == Price(0.38, 1.52, "openrouter")


def test_routing_filters_narrow_the_unpinned_choice():
    fp8_only = (
        f'model = "{KIMI}"\n'
        'extra_body = { provider = { quantizations = ["fp8"], ignore = ["chutes"] } }'
    )
    price, note = select_price(one(fp8_only), listing())
    assert price == Price(0.57, 2.3, "openrouter") and "(novita/fp8)" in note
    only = f'model = "{KIMI}"\nextra_body = {{ provider = {{ only = ["groq", "together"] }} }}'
    price, note = select_price(one(only), listing())
    assert price == Price(1.0, 3.0, "openrouter") and "of 2" in note


def test_a_pin_on_a_provider_with_several_endpoints_takes_the_dearest():
    endpoints = listing()
    extra = parse_endpoints(
        {
            "data": {
                "endpoints": [
                    {
                        "provider_name": "DeepInfra",
                        "tag": "deepinfra/fp8",
                        "pricing": {"prompt": "0.0000008", "completion": "0.000003"},
                    }
                ]
            }
        }
    )
    price, note = select_price(one(pinned("deepinfra")), endpoints + extra)
    assert price == Price(0.8, 3.0, "openrouter")
    assert "deepinfra/fp4, deepinfra/fp8" in note and "dearest" in note


def test_a_pin_nobody_serves_gives_no_price():
    price, note = select_price(one(pinned("cerebras")), listing())
    assert price is None
    assert "'cerebras' does not serve moonshotai/kimi-k2-0905" in note
    assert "deepinfra/fp4" in note


def test_a_pinned_host_without_a_listed_price_gives_no_price():
    endpoints = parse_endpoints(fixture_json("sparse.json"))
    price, note = select_price(one(pinned("acme", "acme/tiny-7b")), endpoints)
    assert price is None and "lists none for acme" in note
