"""How far injected fraud departs from a customer's normal behaviour."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Difficulty:
    name: str
    intensity: float  # 1: textbook signatures (large multiples, night hours); lower: subtler
    camouflage: float  # share of a pattern's optional tells (hour, merchant, amount) left at normal values
    confidence: float  # typical label confidence: how clearly rows show their pattern


DIFFICULTIES = {
    "easy": Difficulty("easy", intensity=1.0, camouflage=0.0, confidence=0.95),
    "realistic": Difficulty("realistic", intensity=0.6, camouflage=0.4, confidence=0.8),
    "hard": Difficulty("hard", intensity=0.35, camouflage=0.65, confidence=0.6),
}
