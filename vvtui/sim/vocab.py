"""The simulated model's tokenizer and vocabulary.

The tokenizer imitates the shape of GPT-style BPE pieces (a leading space glued to the word,
punctuation runs, digits in groups of at most three, CJK one or two characters at a time) so the
streams, logprobs and alignments the simulator produces look like a real model's. It is lossless:
the pieces always concatenate back to the input.
"""

from __future__ import annotations

import functools
import hashlib
import re

import numpy as np

_CJK_CHARS = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef"
_CJK = f"[{_CJK_CHARS}]"
TOKEN_RE = re.compile(
    rf" ?{_CJK}{{1,2}}"
    rf"| ?(?:(?!{_CJK})[^\W\d_])+"
    r"| ?\d{1,3}"
    r"| ?_+"
    r"| ?[^\w\s]+"
    r"|\s*[\r\n]+"
    r"|\s+(?!\S)"
    r"|\s+"
    r"|.",
    re.S,
)
_CJK_RE = re.compile(_CJK)

_WORD_TEXT = """
the of and to in is that for it as was with be by on not he this are or his from at which but
have an they you were her she there one all we their can has been if more when will would who so
no time people way first new made after over years work life world made long great between part
small large good same right still state number system water place point group fact house hand
answer question model value result answer report price market paper table letter river city
country problem process reason service order course level power source report study example
light field voice data record program rate figure range centre heart energy door story view
matter image version method kind space area form line side case week month year home money
company night head change general health early second public local human common final simple
clear short major basic strong certain recent special single likely real total main open close
close better best small large found given known shown called used based seen taken left held
think know make take give find tell show come move turn keep hold bring begin seem help start
might must could should shall about above below under around between through during without
within across along among against toward almost often never always again rather quite however
therefore because although unless while where whether also only just even very much many most
other another each every either neither both such some any several enough little less least
river mountain ocean forest desert island valley garden market bridge castle engine planet
orange purple yellow green silver golden bright quiet gentle sudden careful honest
"""
# Unique, so the distractors at one position never repeat.
WORDS = list(dict.fromkeys(_WORD_TEXT.split()))

_CAPITALISED = [w.capitalize() for w in WORDS[:120]]

PUNCT = [
    ".", ",", "!", "?", ":", ";", "-", "(", ")", '"', "'", "...", ".\n", ":\n", ".\n\n",
    '",', '":', '{"', '"}', '":"', '","', "}", "]", "[", "{", "*", "/", "=", "+", "%",
    "$", "&", "#", "—", "**", "`", "```", ".)", "),", "';",
]  # fmt: skip

SPACES = [" ", "\n", "\n\n", "  ", "\t", " \n"]

CJK = [
    "的", "是", "在", "我们", "这个", "可以", "进行", "问题", "一个", "没有", "他们", "因为",
    "所以", "已经", "时候", "什么", "中国", "发展", "工作", "自己", "数据", "模型", "答案",
    "结果", "城市", "时间", "です", "ます", "する", "한국", "입니다",
]  # fmt: skip

# Every digit group a BPE tokenizer would emit: 1 to 3 digits.
_DIGITS = [str(i) for i in range(10)] + [f"{i:02d}" for i in range(100)]
_DIGITS += [f"{i:03d}" for i in range(1000)]
_DIGITS_BY_WIDTH = {w: [d for d in _DIGITS if len(d) == w] for w in (1, 2, 3)}


def tokenize(text: str) -> list[str]:
    """Split text into GPT-like pieces. `"".join(tokenize(t)) == t` always."""
    return TOKEN_RE.findall(text)


@functools.lru_cache(maxsize=8192)
def token_class(token: str) -> str:
    """word | digit | punct | space | cjk: decides which pool a token's distractors come from."""
    core = token.lstrip(" ") or token
    first = core[0]
    if first.isspace():
        return "space"
    if _CJK_RE.match(first):
        return "cjk"
    if first.isdigit():
        return "digit"
    if first.isalpha():
        return "word"
    return "punct"


def pool(cls: str, token: str) -> list[str]:
    """The distractor pool for a target token of this class, matching its leading space."""
    core = token.lstrip(" ")
    space = token.startswith(" ") and cls != "space"
    if cls == "word":
        return _pool("word_cap" if core[:1].isupper() else "word", space)
    if cls == "digit":
        return _pool(f"digit{min(len(core), 3)}", space)
    if cls in ("punct", "cjk"):
        return _pool(cls, space and cls == "punct")
    return SPACES


@functools.lru_cache(maxsize=32)
def _pool(name: str, space: bool) -> list[str]:
    base = {
        "word": WORDS,
        "word_cap": _CAPITALISED,
        "digit1": _DIGITS[:110],  # single digits are too few: mix in pairs
        "digit2": _DIGITS_BY_WIDTH[2],
        "digit3": _DIGITS_BY_WIDTH[3],
        "punct": PUNCT,
        "cjk": CJK,
    }[name]
    return [" " + t for t in base] if space else list(base)


def digit_neighbour(token: str, u: float) -> str:
    """A digit group one digit away from `token`: the near-miss that breaks a number."""
    head = " " if token.startswith(" ") else ""
    digits = list(token.lstrip(" "))
    pos = int(u * len(digits)) % len(digits)
    step = 1 + int(u * 97) % 9
    digits[pos] = str((int(digits[pos]) + step) % 10)
    return head + "".join(digits)


def stable_hash(*parts: object) -> int:
    """A 63-bit hash that is the same in every process (unlike `hash()`)."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(repr(part).encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return int.from_bytes(h.digest(), "little") >> 1


def pseudo_answer(key: int, sentences: tuple[int, int] = (2, 4)) -> str:
    """A few deterministic English-looking sentences for prompts that carry no expected answer."""
    rng = np.random.default_rng(key)
    out = []
    for _ in range(int(rng.integers(sentences[0], sentences[1] + 1))):
        words = [WORDS[int(i)] for i in rng.integers(0, len(WORDS), int(rng.integers(6, 14)))]
        words[0] = words[0].capitalize()
        out.append(" ".join(words) + ".")
    return " ".join(out)
