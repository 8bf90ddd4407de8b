"""Split observations so each OccupancyOracle report stays within the contract's word limit
(citypass.protocol.occupancy_report.MAX_REPORT_WORDS): whole 256-slot words, ascending."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def split_by_words(observed: Mapping[int, T], max_words: int) -> list[dict[int, T]]:
    """Observations grouped into chunks of at most `max_words` distinct words, ascending."""
    by_word: dict[int, dict[int, T]] = {}
    for slot, value in observed.items():
        by_word.setdefault(slot >> 8, {})[slot] = value
    words = sorted(by_word)
    chunks = []
    for start in range(0, len(words), max_words):
        chunk: dict[int, T] = {}
        for word in words[start : start + max_words]:
            chunk.update(by_word[word])
        chunks.append(chunk)
    return chunks
