"""What the matcher says about one old anchor: its state, where it went, and why."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Decision:
    """The fate of one old anchor in the new tree."""

    old: str
    state: str
    new: str | None = None
    similarity: float = 1.0
    confidence: float = 1.0
    evidence: list[str] = field(default_factory=list)
    candidates: list[tuple[str, float]] = field(default_factory=list)  # nearest, for orphans

    @property
    def anchored(self) -> bool:
        return self.new is not None
