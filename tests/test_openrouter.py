import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.openrouter_support import KIMI, KIMI_PATH, FakeOpenRouter, fixture_json
from vvtui.config import EndpointConfig
from vvtui.errors import UsageError, VvtuiError
from vvtui.providers.openrouter import (
    AuthError,
    BadResponseError,
    ModelNotFoundError,
    ProviderEndpoint,
    UnavailableError,
    endpoints_url,
    exacto_offered,
    fetch_endpoints,
    is_openrouter,
    match_endpoints,
    parse_endpoints,
    per_token_to_per_mtok,
    sort_endpoints,
    split_model,
)
from vvtui.providers.routing import provider_mismatch, same_provider

SECRET = "sk-or-v1-0123456789abcdef0123456789abcdef"


def kimi_endpoints() -> list[ProviderEndpoint]:
    return parse_endpoints(fixture_json("kimi-k2-0905.json"))


# ---- prices ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.0000006", 0.6),
        ("0.0000025", 2.5),
        ("0.00000038", 0.38),
        ("0", 0.0),
        (" 0.000001 ", 1.0),
        (6e-07, 0.6),
        ("1e-6", 1.0),
        ("-1", None),
        ("abc", None),
        ("", None),
        (None, None),
        (True, None),
        ("NaN", None),
        ("Infinity", None),
    ],
)
def test_per_token_price_strings_become_usd_per_mtok(raw, expected):
    assert per_token_to_per_mtok(raw) == expected


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=12))
def test_price_conversion_is_exact_for_decimal_strings(mantissa, scale):
    text = f"{mantissa}e-{scale}"
    # USD per token * 1e6, with no binary-float residue like 0.6000000000000001.
    assert per_token_to_per_mtok(text) == float(f"{mantissa}e{6 - scale}")


# ---- parsing ---------------------------------------------------------------------------------


def test_parses_the_recorded_listing():
    endpoints = kimi_endpoints()
    assert [e.tag for e in endpoints] == [
        "deepinfra/fp4",
        "chutes/fp8",
        "moonshotai",
        "groq",
        "together",
        "fireworks",
        "novita/fp8",
    ]
    moonshot = endpoints[2]
    assert moonshot.provider == "Moonshot AI"
    assert moonshot.quantization == "fp8"
    assert (moonshot.price_in, moonshot.price_out) == (0.6, 2.5)
    assert moonshot.price is not None and moonshot.price.source == "openrouter"
    assert moonshot.context_length == 262144
    assert moonshot.max_completion_tokens == 262144
    assert moonshot.uptime == 99.9 and moonshot.uptime_1d == 99.8
    assert moonshot.latency_p50 == 905.2 and moonshot.throughput_p50 == 38.9
    assert moonshot.supports_logprobs and moonshot.supports_tools
    assert moonshot.supports_response_format and moonshot.supports_structured_outputs
    assert moonshot.slug == "moonshotai"


def test_capabilities_follow_supported_parameters():
    by_tag = {e.tag: e for e in kimi_endpoints()}
    groq = by_tag["groq"]
    assert groq.quantization == "unknown"
    assert not groq.supports_logprobs and groq.supports_tools
    novita = by_tag["novita/fp8"]
    assert novita.supports_logprobs and not novita.supports_tools
    assert not novita.supports_structured_outputs and novita.supports_response_format
    assert novita.status == -1
    # No 30-minute uptime: the 1-day figure stands in.
    assert novita.uptime == 98.2
    fireworks = by_tag["fireworks"]
    assert fireworks.latency_p50 is None and fireworks.throughput_p50 is None


def test_missing_null_and_odd_fields_do_not_hide_the_other_endpoints():
    endpoints = parse_endpoints(fixture_json("sparse.json"))
    assert len(endpoints) == 3  # the string entry and the nameless entry are skipped
    acme, shady, onlytag = endpoints
    # The terminal escape in the provider name is gone.
    assert acme.provider == "Acme[31m Cloud" and "\x1b" not in acme.provider
    assert acme.tag == "acme"
    assert acme.price_in == 0.1 and acme.price_out is None and acme.price is None
    assert acme.quantization is None and acme.supported_parameters == ()
    assert shady.provider == "Shady" and shady.tag == "shady"
    assert shady.context_length == 32768
    assert shady.latency_p50 is None and shady.throughput_p50 is None and shady.uptime is None
    assert onlytag.provider == "onlytag/bf16" and onlytag.context_length == 8192
    assert onlytag.price_in is None and onlytag.price_out is None


@pytest.mark.parametrize(
    "payload", [[], {"data": []}, {"data": {"endpoints": "x"}}, "text", {"endpoints": []}]
)
def test_wrong_shapes_are_bad_responses(payload):
    with pytest.raises(BadResponseError):
        parse_endpoints(payload)


def test_null_endpoints_is_an_empty_listing():
    assert parse_endpoints({"data": {"id": "a/b", "endpoints": None}}) == []


def test_to_dict_round_trips():
    for e in kimi_endpoints():
        assert ProviderEndpoint.from_dict(e.to_dict()) == e


# ---- model ids -------------------------------------------------------------------------------


def test_split_model_and_url():
    assert split_model("moonshotai/kimi-k2-0905:exacto") == ("moonshotai/kimi-k2-0905", "exacto")
    assert split_model("a/b") == ("a/b", None)
    url = endpoints_url("https://openrouter.ai/api/v1/", "moonshotai/kimi-k2-0905:nitro")
    assert url == "https://openrouter.ai/api/v1/models/moonshotai/kimi-k2-0905/endpoints"
    with pytest.raises(UsageError, match="author/slug"):
        endpoints_url("https://openrouter.ai/api/v1", "kimi-k2")
    with pytest.raises(UsageError):
        endpoints_url("https://openrouter.ai/api/v1", "a/b/c")


def test_is_openrouter():
    assert is_openrouter("https://openrouter.ai/api/v1")
    assert is_openrouter("https://OpenRouter.ai/api/v1/")
    assert not is_openrouter("https://api.together.xyz/v1")
    assert not is_openrouter("https://openrouter.ai.evil.example/api/v1")
    assert not is_openrouter("http://127.0.0.1:8080/v1")


def test_exacto_offered_for_launch_models_and_multi_tool_listings():
    endpoints = kimi_endpoints()
    assert exacto_offered("moonshotai/kimi-k2-0905", [])
    assert exacto_offered("MoonshotAI/Kimi-K2-0905:exacto", [])
    assert exacto_offered("acme/other", endpoints)  # several tool-capable providers
    one_tool = [e for e in endpoints if e.tag == "groq"]
    assert not exacto_offered("acme/other", one_tool)


# ---- fetching --------------------------------------------------------------------------------


async def test_fetch_sends_key_and_parses():
    fake = FakeOpenRouter().serve(KIMI_PATH, "kimi-k2-0905.json")
    async with fake.client() as http:
        endpoints = await fetch_endpoints(KIMI + ":exacto", http=http, api_key=SECRET)
    assert len(endpoints) == 7
    (request,) = fake.requests
    assert request.url.path == KIMI_PATH  # the suffix was stripped
    assert request.headers["authorization"] == f"Bearer {SECRET}"


async def test_fetch_without_key_sends_no_authorization():
    fake = FakeOpenRouter().serve(KIMI_PATH, "kimi-k2-0905.json")
    async with fake.client() as http:
        await fetch_endpoints(KIMI, http=http)
    assert "authorization" not in fake.requests[0].headers


@pytest.mark.parametrize(
    ("fixture", "status", "error", "text"),
    [
        ("error-404.json", 404, ModelNotFoundError, "has no model 'moonshotai/kimi-k2-0905'"),
        ("error-401.json", 401, AuthError, "refused the request (HTTP 401"),
        ("error-401.json", 429, UnavailableError, "rate-limiting"),
        ("cloudflare-502.html", 502, UnavailableError, "HTTP 502 (an HTML error page)"),
        ("cloudflare-502.html", 200, BadResponseError, "HTML page, not JSON"),
        ("truncated.json", 200, BadResponseError, "malformed JSON"),
        ("error-404.json", 200, ModelNotFoundError, "Model not found"),
    ],
)
async def test_errors_are_one_line_vvtui_errors_without_the_key(fixture, status, error, text):
    fake = FakeOpenRouter().serve(KIMI_PATH, fixture, status)
    async with fake.client() as http:
        with pytest.raises(error) as info:
            await fetch_endpoints(KIMI, http=http, api_key=SECRET)
    message = str(info.value)
    assert isinstance(info.value, VvtuiError)
    assert text in message
    assert "\n" not in message and SECRET not in message


async def test_a_key_echoed_in_an_error_body_is_redacted():
    fake = FakeOpenRouter()
    body = '{"error": {"code": 401, "message": "key ' + SECRET + ' is invalid"}}'
    fake.routes[KIMI_PATH] = (401, body, "application/json")
    async with fake.client() as http:
        with pytest.raises(AuthError) as info:
            await fetch_endpoints(KIMI, http=http, api_key=SECRET)
    assert SECRET not in str(info.value) and "[REDACTED]" in str(info.value)


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "cannot reach openrouter.ai"),
        (httpx.ReadTimeout("timed out"), "did not answer in time"),
    ],
)
async def test_network_failures_are_unavailable(exc, text):
    fake = FakeOpenRouter()
    fake.routes[KIMI_PATH] = exc
    async with fake.client() as http:
        with pytest.raises(UnavailableError, match=text):
            await fetch_endpoints(KIMI, http=http, api_key=SECRET)


async def test_long_error_messages_are_cut_to_one_short_line():
    fake = FakeOpenRouter()
    fake.routes[KIMI_PATH] = (500, "x" * 5000 + "\n\n" + "y" * 100, "text/plain")
    async with fake.client() as http:
        with pytest.raises(UnavailableError) as info:
            await fetch_endpoints(KIMI, http=http)
    assert len(str(info.value)) < 300 and "\n" not in str(info.value)


# ---- choosing and comparing ------------------------------------------------------------------


def test_sorting():
    endpoints = kimi_endpoints()
    assert [e.tag for e in sort_endpoints(endpoints, "price")][:3] == [
        "chutes/fp8",
        "deepinfra/fp4",
        "novita/fp8",
    ]
    by_speed = [e.tag for e in sort_endpoints(endpoints, "throughput")]
    assert by_speed[0] == "groq" and by_speed[-1] == "fireworks"  # unknown speed goes last
    by_latency = [e.tag for e in sort_endpoints(endpoints, "latency")]
    assert by_latency[0] == "groq" and by_latency[-1] == "fireworks"
    with pytest.raises(UsageError):
        sort_endpoints(endpoints, "vibes")


def test_match_endpoints_by_tag_slug_or_name():
    endpoints = kimi_endpoints()
    assert [e.tag for e in match_endpoints("deepinfra/fp4", endpoints)] == ["deepinfra/fp4"]
    assert [e.tag for e in match_endpoints("DeepInfra", endpoints)] == ["deepinfra/fp4"]
    assert [e.tag for e in match_endpoints("moonshot-ai", endpoints)] == ["moonshotai"]
    assert match_endpoints("deepinfra/bf16", endpoints) == []
    assert match_endpoints("cerebras", endpoints) == []


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("deepinfra", "DeepInfra", True),
        ("deepinfra/fp4", "DeepInfra", True),
        ("moonshotai", "Moonshot AI", True),
        ("google-ai-studio", "Google AI Studio", True),
        ("google-vertex", "Google", True),
        ("nebius", "Nebius AI Studio", True),
        ("z-ai", "Z.AI", True),
        ("together", "Fireworks", False),
        ("groq", "Groq Cloud", True),
        ("ai21", "AI", False),  # too short to count as a prefix
        ("", "Groq", False),
    ],
)
def test_same_provider(a, b, same):
    assert same_provider(a, b) is same


def _pinned(order):
    return EndpointConfig(
        name="or",
        base_url="https://openrouter.ai/api/v1",
        model=KIMI,
        extra_body={"provider": {"order": order, "allow_fallbacks": False}},
    )


@pytest.mark.parametrize(
    ("order", "upstream", "mismatch"),
    [
        (["deepinfra/fp4"], "DeepInfra", False),
        (["deepinfra"], "deepinfra", False),
        (["moonshotai"], "Moonshot AI", False),
        (["groq"], "Together", True),
        (["groq", "together"], "Together", True),  # a fallback still is not the pinned host
        (["groq"], None, False),
        (["groq"], "  ", False),
        ([], "Together", False),
    ],
)
def test_provider_mismatch(order, upstream, mismatch):
    assert provider_mismatch(_pinned(order), upstream) is mismatch


def test_unpinned_endpoints_never_mismatch():
    plain = EndpointConfig(name="x", base_url="https://openrouter.ai/api/v1", model=KIMI)
    assert not provider_mismatch(plain, "Anyone")
    odd = EndpointConfig(name="y", base_url="https://x", model="m", extra_body={"provider": "groq"})
    assert not provider_mismatch(odd, "Together")
