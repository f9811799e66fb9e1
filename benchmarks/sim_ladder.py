"""How much damage each simulated profile does, measured on the LM directly (no HTTP).

Prints, per profile, over a mixed set of hinted probes:
- same top-1 / mean KL: teacher-forced on the reference's own tokens (llama.cpp's measure; the
  real numbers are 99.7 % bf16, 97.7 % q8, ~92 % q4, ~71 % q2),
- token agreement: free-running output aligned against a reference run,
- exact: answers (text or tool call) reproduced character for character,
- cjk: latin-script answers with CJK characters leaking in.

Run: PYTHONPATH=. python benchmarks/sim_ladder.py [N_PROBES]
"""

from __future__ import annotations

import difflib
import re
import sys

import numpy as np

from vvtui.sim.answer import generate, teacher_forced
from vvtui.sim.profiles import default_profiles
from vvtui.sim.samples import answer_of, sample_bodies

CJK = re.compile(r"[\u3400-\u9fff]")


def rendered(pieces) -> tuple[str, list[str]]:
    tokens = [p.text for p in pieces if p.kind != "call"]
    calls = [p for p in pieces if p.kind == "call"]
    if not calls:
        return "".join(tokens), tokens
    parts = []
    for c in calls:
        args = "".join(p.text for p in pieces if p.kind == "args" and p.index == c.index)
        parts.append(c.text + args)
    return "|".join(parts), [c.text for c in calls] + tokens


def agreement(a: list[str], b: list[str]) -> float:
    if not a and not b:
        return 1.0
    m = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return sum(x.size for x in m.get_matching_blocks()) / max(len(a), len(b))


def kl(p_logits: np.ndarray, q_logits: np.ndarray) -> np.ndarray:
    def logsoftmax(x):
        x = np.where(np.isfinite(x), x, -1e9)
        return x - np.logaddexp.reduce(x, axis=1, keepdims=True)

    lp, lq = logsoftmax(p_logits), logsoftmax(q_logits)
    return (np.exp(lp) * (lp - lq)).sum(axis=1)


def main(n: int = 60, seed: int = 1) -> None:
    bodies = sample_bodies(n, seed=seed)
    profiles = default_profiles()
    ref = profiles[0]
    refs = [rendered(generate(ref.weights, b)[1]) for b in bodies]
    reproduced = sum(r[0] == answer_of(b) for r, b in zip(refs, bodies, strict=True))
    print(f"{n} probes (seed {seed}); the reference reproduces {reproduced} hint answers")
    head = ("profile", "top-1", "KL", "agree", "exact", "cjk", "early", "long")
    print("{:<14}{:>8}{:>9}{:>8}{:>7}{:>5}{:>6}{:>6}".format(*head))
    for prof in profiles:
        same, kls, agree, exact, cjk, early, long = [], [], [], 0, 0, 0, 0
        for body, (_ref_text, ref_tokens) in zip(bodies, refs, strict=True):
            if not prof.substituted and not body.get("tools"):
                clean, _ = teacher_forced(ref.weights, body)
                _, noisy = teacher_forced(prof.weights, body)
                rows = slice(0, clean.shape[0] - 1)  # leave out end-of-sequence
                same.extend((np.argmax(noisy[rows, :20], axis=1) == 0).tolist())
                kls.extend(kl(clean[rows], noisy[rows]).tolist())
            text, tokens = rendered(generate(prof.weights, body)[1])
            agree.append(agreement(ref_tokens, tokens))
            exact += text == answer_of(body)
            lang = body["vvtui_sim"]["language"]
            cjk += lang == "latin" and bool(CJK.search(text))
            early += len(tokens) < len(ref_tokens)
            long += len(tokens) > len(ref_tokens)
        top1 = f"{100 * np.mean(same):.1f}%" if same else "n/a"
        kl_s = f"{np.mean(kls):.4f}" if kls else "n/a"
        print(
            f"{prof.name:<14}{top1:>8}{kl_s:>9}{100 * np.mean(agree):>7.1f}%"
            f"{exact:>4}/{n:<3}{cjk:>4}{early:>6}{long:>6}"
        )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
