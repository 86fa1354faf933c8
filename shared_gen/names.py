"""Pronounceable names from syllables, drawn from a :class:`~shared_gen.hashing.Rng`."""

from __future__ import annotations

from typing import Final

from .hashing import Rng

ONSETS: Final = ("", "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t",
                 "v", "z", "th", "kr", "st", "tr", "vr", "sh", "ph", "qu", "x")
VOWELS: Final = ("a", "e", "i", "o", "u", "ae", "ai", "ou", "y", "io")
CODAS: Final = ("", "", "", "n", "r", "s", "th", "x", "l", "m", "k", "nd")
ROMAN: Final = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")


def make_name(rng: Rng, min_syllables: int = 2, max_syllables: int = 3) -> str:
    """A capitalised name of ``min..max`` syllables; each syllable is onset+vowel+coda.

    Draw order per name: syllable count, then per syllable onset, vowel, coda.
    """
    n = min_syllables + rng.below(max_syllables - min_syllables + 1)
    parts: list[str] = []
    for _ in range(n):
        onset = ONSETS[rng.below(len(ONSETS))]
        vowel = VOWELS[rng.below(len(VOWELS))]
        coda = CODAS[rng.below(len(CODAS))]
        parts.append(onset + vowel + coda)
    name = "".join(parts)
    return name[0].upper() + name[1:]
