"""What a pane shows: the live buffer while an answer streams, and the finished answer painted
with the Scorer's alignment."""

from __future__ import annotations

from vvtui.clients.events import Failed, Retrying, TextDelta, TokenLogprob, ToolCallDelta
from vvtui.model import EndpointInfo, ErrorInfo, Probe, Result, Tokens, ToolCall
from vvtui.redact import forget_all, remember
from vvtui.scoring import Scorer
from vvtui.tui.document import LiveText, build_result_doc


def result(endpoint: str, tokens: list[str], **kw: object) -> Result:
    return Result(
        endpoint,
        "p1",
        text="".join(tokens),
        tokens=Tokens(text=tokens),
        **kw,  # type: ignore[arg-type]
    )


def comparison(ref: list[str], cand: list[str]):
    probe = Probe("p1", messages=[{"role": "user", "content": "hi"}])
    endpoints = [
        EndpointInfo("ref", "m", "http://x", reference=True),
        EndpointInfo("cand", "m", "http://x"),
    ]
    scorer = Scorer([probe], endpoints)
    scorer.add(result("ref", ref))
    scorer.add(result("cand", cand))
    return scorer.comparison("cand", "p1")


def runs_text(doc, cls: str) -> list[str]:
    return [doc.text[s:e] for s, e, c in doc.runs if c == cls]


def test_live_text_appends_and_counts_tokens() -> None:
    live = LiveText()
    live.feed(TextDelta(0.0, "Hel", [TokenLogprob("Hel")]))
    live.feed(TextDelta(0.1, "lo", [TokenLogprob("lo")]))
    assert live.text == "Hello" and live.tokens == 2
    live.feed(ToolCallDelta(0.2, 0, id="c1", name="get_weather", arguments='{"city"'))
    live.feed(ToolCallDelta(0.3, 0, arguments=': "Oslo"}'))
    assert live.text == 'Hello\n⚙ get_weather({"city": "Oslo"}'
    assert runs_text(live, "tool") == ['\n⚙ get_weather({"city": "Oslo"}']
    assert live.answer() == "Hello"


def test_live_text_remembers_retry_and_failure() -> None:
    live = LiveText()
    live.feed(Retrying(0.0, attempt=2, delay_s=0.5, reason="HTTP 429"))
    assert live.retry is not None and "429" in live.retry
    live.feed(Failed(0.1, ErrorInfo("stall", "no bytes for 30 s")))
    assert live.failed is not None and live.failed.kind == "stall"


def test_live_divergence_mark_follows_both_streams() -> None:
    live = LiveText()
    live.feed(TextDelta(0.0, "The answer is "))
    live.compare_with("The answer")  # reference behind: nothing decided yet
    assert live.mark is None
    live.compare_with("The answer is 42")
    assert live.mark is None  # all shared so far
    live.feed(TextDelta(0.1, "41"))
    live.compare_with("The answer is 42")
    assert live.mark == len("The answer is 4")
    generation = live.generation
    live.compare_with("something else entirely")  # decided once, never moved
    assert live.mark == len("The answer is 4") and live.generation == generation


def test_replaced_and_inserted_tokens_are_painted() -> None:
    ref = ["The", " cat", " sat", " on", " the", " mat", "."]
    cand = ["The", " dog", " sat", " on", " the", " mat", " today", "."]
    doc = build_result_doc(result("cand", cand), comparison(ref, cand))
    assert doc.text == "The dog sat on the mat today."
    assert runs_text(doc, "replace") == [" dog"]
    assert runs_text(doc, "insert") == [" today"]
    assert doc.mark == len("The")  # the first divergence, in display coordinates


def test_missing_reference_text_is_shown_struck_through() -> None:
    ref = ["Paris", " is", " the", " capital", " of", " France", " and", " its", " largest", "."]
    cand = ["Paris", " is", " the", " capital", " of", " France", "."]
    doc = build_result_doc(result("cand", cand), comparison(ref, cand))
    assert runs_text(doc, "missing") == [" and its largest"]
    assert doc.text == "Paris is the capital of France and its largest."
    assert doc.mark == len("Paris is the capital of France")


def test_diff_off_shows_the_plain_answer() -> None:
    comp = comparison(["a", "b"], ["a", "c"])
    doc = build_result_doc(result("cand", ["a", "c"]), comp, diff=False)
    assert doc.text == "ac" and doc.runs == [] and doc.mark is None


def test_tool_calls_and_redacted_errors_follow_the_text() -> None:
    forget_all()
    remember("sk-secret-value-123456")
    r = result(
        "cand",
        ["ok"],
        tool_calls=[ToolCall(0, "lookup", '{"q": 1}')],
        error=ErrorInfo("http", "401 for key sk-secret-value-123456"),
    )
    doc = build_result_doc(r, None)
    assert doc.text.splitlines() == ["ok", '⚙ lookup({"q": 1})', "⚠ http: 401 for key [REDACTED]"]
    assert runs_text(doc, "error") == ["\n⚠ http: 401 for key [REDACTED]"]
    forget_all()


def test_live_text_never_draws_a_secret_even_split_across_deltas() -> None:
    forget_all()
    secret = "sk-live-abcdefghijklmnop1234"
    remember(secret)
    live = LiveText()
    live.feed(TextDelta(0.0, "your key is " + secret[:10]))
    first = live.flush()
    generation = live.generation
    live.feed(TextDelta(0.1, secret[10:] + " ok"))
    shown = live.flush()
    assert secret not in shown and "[REDACTED]" in shown and shown.endswith(" ok")
    # The part drawn before changed: the pane is told to redraw it all.
    assert not shown.startswith(first) and live.generation != generation
    assert live.answer().endswith(secret + " ok")  # compared, never drawn
    forget_all()
