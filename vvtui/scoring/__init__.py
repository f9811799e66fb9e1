"""The scoring core: tokens, alignment, checks, logprob divergence, MMD, fidelity, latency/price.

Pure Python + numpy over the plain data of `vvtui.model`; imports neither Textual nor httpx, and
loads tiktoken and jsonschema only when first needed. Formulas: docs/scoring.md.
"""

from vvtui.scoring.alignment import Alignment, Op, align
from vvtui.scoring.checks import CHECK_TYPES, CheckOutcome, run_checks, validate_check_spec
from vvtui.scoring.compare import HighlightSpan, ProbeComparison
from vvtui.scoring.logprobs import LogprobStats, compare_tops, position_kl
from vvtui.scoring.mmd import MMDResult, mmd_test
from vvtui.scoring.report import EndpointScore, ScoreReport
from vvtui.scoring.scorer import Scorer, score_snapshot
from vvtui.scoring.script import foreign_ratio
from vvtui.scoring.tokenize import TokenSeq, count_tokens, tokenize_result
from vvtui.scoring.tools import ToolConfusion

__all__ = [
    "CHECK_TYPES",
    "Alignment",
    "CheckOutcome",
    "EndpointScore",
    "HighlightSpan",
    "LogprobStats",
    "MMDResult",
    "Op",
    "ProbeComparison",
    "ScoreReport",
    "Scorer",
    "TokenSeq",
    "ToolConfusion",
    "align",
    "compare_tops",
    "count_tokens",
    "foreign_ratio",
    "mmd_test",
    "position_kl",
    "run_checks",
    "score_snapshot",
    "tokenize_result",
    "validate_check_spec",
]
