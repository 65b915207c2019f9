"""Word error rate on normalised text, so that references and recognizers that differ only in
style (case, punctuation, "Mr." vs "mister", "40" vs "forty") are not counted as errors."""
from __future__ import annotations

import re
import unicodedata

# Spelled-out forms mapped to the abbreviation the recognizers tend to write.
_ABBREVIATIONS = {"mister": "mr", "missus": "mrs", "doctor": "dr"}
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"), (100, "hundred"))
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _english_number(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    for size, name in _SCALES:
        if n >= size:
            head, rest = divmod(n, size)
            return f"{_english_number(head)} {name}" + (f" {_english_number(rest)}" if rest else "")
    raise AssertionError("unreachable: every n >= 100 has a scale")


def _spell_numbers(text: str) -> str:
    def spell(match: re.Match[str]) -> str:
        # "1,000" is one number; "3.5" is read digit-wise after the point.
        whole, _, fraction = match.group().replace(",", "").partition(".")
        spoken = _english_number(int(whole))
        if fraction:
            spoken += " point " + " ".join(_ONES[int(d)] for d in fraction)
        return f" {spoken} "

    return _NUMBER.sub(spell, text)


def normalize(text: str, *, language: str = "en") -> list[str]:
    """Lower-case words of `text` with punctuation dropped, hyphens split, and (for English)
    numbers spelled out and "mister" written "mr"."""
    text = unicodedata.normalize("NFC", text).lower()
    if language.split("-")[0] == "en":
        text = _spell_numbers(text)
    text = re.sub(r"[-‐‑‒–—_/]", " ", text)
    # Apostrophes vanish ("don't" == "dont"); every other non-word character separates words.
    text = re.sub(r"['’`]", "", text)
    text = re.sub(r"[^\w\s]", " ", text)
    return [_ABBREVIATIONS.get(token, token) for token in text.split()]


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Fewest substitutions, insertions and deletions turning `reference` into `hypothesis`."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


def wer(reference: str, hypothesis: str, *, language: str = "en") -> float:
    """Word error rate of `hypothesis` against `reference` after `normalize`; 0.0 is perfect and
    it can exceed 1.0 when the hypothesis adds many words. An empty reference scores 1.0 for any
    non-empty hypothesis."""
    ref = normalize(reference, language=language)
    hyp = normalize(hypothesis, language=language)
    return edit_distance(ref, hyp) / max(len(ref), 1)
