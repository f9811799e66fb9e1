"""Messages from the run (the runner's callback, the run worker) to the screen.

Tokens do not travel as messages: they go straight into the model's buffers and the frame timer
draws them. What does travel is low-frequency, and the one that can come in bursts (a result
arriving) merges: a queued `ResultsArrived` is superseded by the next, since the handler reads
the model, not the message.
"""

from __future__ import annotations

from textual.message import Message

from vvtui.model import RunPhase


class ResultsArrived(Message):
    """One or more results are in the model, waiting to be scored."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ResultsArrived)


class RunPhaseChanged(Message):
    """The run started, finished, was cancelled, or its final scores are in."""

    def __init__(self, phase: RunPhase, *, final: bool = False) -> None:
        super().__init__()
        self.phase = phase
        # True once the run's worker is done: scores final, snapshot written (when --out).
        self.final = final
