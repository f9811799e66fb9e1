"""The Accumulator on hand-built event sequences (pure: no server needed)."""

from __future__ import annotations

import math

import pytest

from vvtui.clients.accumulate import Accumulator
from vvtui.clients.events import (
    Failed,
    Finish,
    Flag,
    Meta,
    ReasoningDelta,
    RequestSent,
    ResponseHeaders,
    Retrying,
    TextDelta,
    TokenLogprob,
    ToolCallDelta,
    Usage,
)
from vvtui.config import EndpointConfig
from vvtui.model import ErrorInfo, Price, Probe

EP = EndpointConfig(name="e", base_url="http://x", model="m", price=Price(2.0, 4.0))
PROBE = Probe(id="p", messages=[{"role": "user", "content": "one two three"}])


def fold(events, **kw):
    acc = Accumulator(EP, PROBE, **kw)
    for e in events:
        acc.feed(e)
    return acc.result()


def paced(n: int, rate: float, start: float = 1.0, t0: float = 0.0):
    """The simulator's ground truth: first token at `start`, then one every 1/rate."""
    events = [RequestSent(t0), ResponseHeaders(t0 + 0.1, 200)]
    events += [TextDelta(start + i / rate, f"t{i} ") for i in range(n)]
    return events


def test_tokens_per_s_matches_one_token_every_interval():
    events = paced(10, rate=50.0)
    end = events[-1].t
    events += [Usage(end, 3, 10), Finish(end, "stop")]
    r = fold(events)
    assert r.tokens_per_s == pytest.approx(50.0)
    assert r.ttft_s == pytest.approx(1.0) and r.ttfb_s == pytest.approx(0.1)
    assert r.total_s == pytest.approx(end)


def test_tokens_per_s_without_usage_counts_deltas():
    events = paced(5, rate=20.0)
    events.append(Finish(events[-1].t, "stop"))
    r = fold(events)
    assert r.tokens_per_s == pytest.approx(20.0)
    assert r.output_tokens == 5 and r.usage_estimated and "no_usage" in r.flags


def test_tokens_per_s_subtracts_every_token_of_the_first_delta():
    tok = [TokenLogprob("a", -0.1), TokenLogprob("b", -0.2), TokenLogprob("c", -0.3)]
    events = [RequestSent(0.0), TextDelta(1.0, "abc", tok)]  # three tokens in the first chunk
    events += [
        TextDelta(1.0 + 0.5 * i, x, [TokenLogprob(x, -0.1)]) for i, x in enumerate("defg", 1)
    ]
    events.append(Finish(3.0, "stop"))
    r = fold(events)
    assert r.output_tokens == 7
    assert r.tokens_per_s == pytest.approx(4 / 2.0)


def test_a_steady_stream_measures_its_rate():
    events = paced(60, rate=50.0)
    events.append(Finish(events[-1].t, "stop"))
    assert fold(events).tokens_per_s == pytest.approx(50.0)


def test_reads_carrying_several_tokens_still_measure_the_rate():
    # 50 tok/s delivered two tokens per read (a busy loop, or TCP coalescing chunks): each read
    # carries its tokens' logprob entries and one stamp.
    events = [RequestSent(0.0)]
    for i in range(30):
        pair = [TokenLogprob(f"a{i}", -0.1), TokenLogprob(f"b{i}", -0.1)]
        t = 1.0 + (2 * i + 1) / 50.0  # when the second token of the pair was written
        events.append(TextDelta(t, f"a{i} b{i} ", pair))
    events.append(Finish(events[-1].t, "stop"))
    # 58 tokens after the first read, over 29 pairs x 0.04 s.
    assert fold(events).tokens_per_s == pytest.approx(58 / (29 * 0.04))


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_short_answers_have_no_rate(n):
    # Fewer than MIN_RATE_READS reads after the first, or (n=5 at 1000 tok/s: 4 ms) less than
    # MIN_RATE_SPAN_S between first and last: too short to time.
    events = paced(n, rate=1000.0)
    events.append(Finish(events[-1].t, "stop"))
    assert fold(events).tokens_per_s is None


def test_a_burst_has_no_rate():
    # A late server flushing 13 tokens in separate reads 40 microseconds apart: measuring that as
    # 25,000 tok/s is what made endpoints serving 100 tok/s show five-digit rates.
    events = paced(13, rate=25_000.0)
    events.append(Finish(events[-1].t, "stop"))
    r = fold(events)
    assert r.tokens_per_s is None and r.output_tokens == 13


def test_deltas_sharing_a_read_count_as_one_read():
    # Four events of one read after the first token are one interval, not four.
    events = [RequestSent(0.0), TextDelta(1.0, "a ")]
    events += [TextDelta(1.5, f"{x} ") for x in "bcde"]
    events.append(Finish(1.5, "stop"))
    assert fold(events).tokens_per_s is None
    events = [RequestSent(0.0), TextDelta(1.0, "a ")]
    events += [TextDelta(1.0 + 0.1 * i, f"{x} ") for i, x in enumerate("bcde", 1)]
    events.append(Finish(1.4, "stop"))
    assert fold(events).tokens_per_s == pytest.approx(4 / 0.4)


def test_a_single_chunk_has_no_rate():
    r = fold([RequestSent(0.0), TextDelta(0.5, "all at once"), Finish(0.5, "stop")])
    assert r.tokens_per_s is None and r.ttft_s == pytest.approx(0.5)


def test_timing_is_relative_to_the_attempt_that_answered():
    events = [
        RequestSent(0.0, 1),
        ResponseHeaders(0.2, 429),
        Retrying(0.2, 1, 0.5, "HTTP 429"),
        RequestSent(0.7, 2),
        ResponseHeaders(0.8, 200),
        TextDelta(1.0, "x"),
        Finish(1.2, "stop"),
    ]
    r = fold(events)
    assert r.attempts == 2
    assert r.ttfb_s == pytest.approx(0.1)
    assert r.ttft_s == pytest.approx(0.3)
    assert r.total_s == pytest.approx(0.5)
    assert r.extra["retries"] == [{"attempt": 1, "delay_s": 0.5, "reason": "HTTP 429"}]


def test_role_only_and_empty_deltas_are_not_the_first_token():
    events = [
        RequestSent(0.0),
        TextDelta(0.1, ""),
        ReasoningDelta(0.2, ""),
        TextDelta(0.4, "x"),
        Finish(0.5, "stop"),
    ]
    assert fold(events).ttft_s == pytest.approx(0.4)


def test_logprob_columns_keep_floors_and_mark_unknowns():
    events = [
        RequestSent(0.0),
        TextDelta(0.1, "a", [TokenLogprob("a", -9999.0, [97], [("a", -9999.0)])]),
        TextDelta(0.2, "b", [TokenLogprob("b", None, None, None)]),
        Finish(0.3, "stop"),
    ]
    r = fold(events)
    assert r.tokens is not None
    assert r.tokens.logprob == [-9999.0, -9999.0]
    assert all(math.isfinite(x) for x in r.tokens.logprob)
    assert r.tokens.bytes == [[97], None]
    assert r.tokens.top == [[("a", -9999.0)], []]


def test_tokens_absent_when_no_logprobs():
    r = fold([RequestSent(0.0), TextDelta(0.1, "a"), Finish(0.2, "stop")])
    assert r.tokens is None


def test_tool_fragments_join_and_repeated_names_are_not_doubled():
    events = [
        RequestSent(0.0),
        ToolCallDelta(0.1, 1, "c1", "second", '{"b"'),
        ToolCallDelta(0.2, 0, "c0", "first", "{}"),
        ToolCallDelta(0.3, 1, None, "second", ": 2}"),
        Finish(0.4, "tool_calls"),
    ]
    r = fold(events)
    assert [(c.index, c.id, c.name, c.arguments) for c in r.tool_calls] == [
        (0, "c0", "first", "{}"),
        (1, "c1", "second", '{"b": 2}'),
    ]
    assert r.ttft_s == pytest.approx(0.1)


def test_cost_prefers_the_provider_figure_even_zero():
    base = [RequestSent(0.0), TextDelta(0.1, "x")]
    priced = fold([*base, Usage(0.2, 1000, 500), Finish(0.2, "stop")])
    assert priced.cost_usd == pytest.approx((1000 * 2.0 + 500 * 4.0) / 1e6)
    free = fold([*base, Usage(0.2, 1000, 500, cost_usd=0.0), Finish(0.2, "stop")])
    assert free.cost_usd == 0.0


def test_estimates_use_the_counter_when_usage_is_absent():
    r = fold(
        [RequestSent(0.0), TextDelta(0.1, "four words right here"), Finish(0.2, "stop")],
        count_tokens=lambda s: len(s.split()),
    )
    assert (r.input_tokens, r.output_tokens) == (3, 4)
    assert r.usage_estimated and r.cost_usd == pytest.approx((3 * 2.0 + 4 * 4.0) / 1e6)


def test_requests_that_got_no_answer_cost_nothing():
    count = {"count_tokens": lambda s: len(s.split())}
    for events in (
        [RequestSent(0.0), Failed(0.1, ErrorInfo("connect", "refused"))],
        [RequestSent(0.0), ResponseHeaders(0.1, 502), Failed(0.1, ErrorInfo("http", "502"))],
        [RequestSent(0.0), ResponseHeaders(0.1, 200), Failed(2.0, ErrorInfo("stall", "no"))],
    ):
        r = fold(events, **count)
        assert (r.input_tokens, r.output_tokens, r.cost_usd) == (None, None, None)
        assert not r.usage_estimated
    # A partial answer was generated, so its prompt and tokens are estimated and charged.
    partial = [RequestSent(0.0), TextDelta(0.1, "half an"), Failed(1.0, ErrorInfo("stall", "no"))]
    r = fold(partial, **count)
    assert (r.input_tokens, r.output_tokens) == (3, 2) and r.cost_usd > 0


def test_partial_failure_is_truncated_and_keeps_the_text():
    err = ErrorInfo("stall", "stream stalled")
    r = fold([RequestSent(0.0), TextDelta(0.1, "half"), Failed(1.0, err, partial=True)])
    assert r.text == "half" and r.truncated and r.error == err
    assert r.finish_reason is None and r.total_s == pytest.approx(1.0)


def test_failure_before_output_is_not_truncated():
    r = fold([RequestSent(0.0), Failed(0.1, ErrorInfo("connect", "refused"))])
    assert not r.truncated and r.error.kind == "connect" and r.output_tokens is None
    assert "no_usage" not in r.flags


def test_stream_cut_short_without_closing_event():
    r = fold([RequestSent(0.0), TextDelta(0.1, "so far")])
    assert r.truncated and "incomplete" in r.flags and r.total_s == pytest.approx(0.1)


def test_flags_meta_and_finish_extras():
    events = [
        RequestSent(0.0),
        Meta(0.1, "m-2024-01-01", "Groq", "fp"),
        Flag(0.1, "model_mismatch", "asked 'm', answered 'x'"),
        TextDelta(0.2, "x"),
        Flag(0.3, "output_capped", "stopped"),
        Finish(0.3, "length", "max_tokens", {"timings": {"n": 1}, "capped": True}),
    ]
    r = fold(events, sample=2, repeat=1, started_at=123.0)
    assert r.flags == ["model_mismatch", "output_capped", "no_usage"]
    assert r.extra["flag_details"]["model_mismatch"] == "asked 'm', answered 'x'"
    assert r.extra["timings"] == {"n": 1} and r.extra["native_finish_reason"] == "max_tokens"
    assert r.truncated and r.finish_reason == "length"
    assert (r.upstream_provider, r.model_answered, r.system_fingerprint) == (
        "Groq",
        "m-2024-01-01",
        "fp",
    )
    assert (r.sample, r.repeat, r.started_at) == (2, 1, 123.0)
    assert r.key == ("e", "p", 2, 1)


def test_result_round_trips_through_json():
    import json

    from vvtui.model import Result

    events = [
        RequestSent(0.0),
        TextDelta(0.1, "a", [TokenLogprob("a", -0.5, [97], [("a", -0.5), ("b", -2.0)])]),
        Usage(0.2, 1, 1, raw={"prompt_tokens": 1}),
        Finish(0.2, "stop"),
    ]
    r = fold(events)
    again = Result.from_dict(json.loads(json.dumps(r.to_dict(), allow_nan=False)))
    assert again.to_dict() == r.to_dict()
