"""The translation interface every translator adapter implements."""
from __future__ import annotations

from typing import Protocol

from avp.providers.retry import ProviderError


class TranslateError(ProviderError):
    """Translation failed. `permanent` tells the pipeline whether a retry can help (service
    busy, malformed answer) or not (rejected request, no credentials)."""


class Translator(Protocol):
    name: str

    def translate(self, texts: list[str], *, source: str, target: str,
                  glossary: dict[str, str] | None = None) -> list[str]:
        """`texts` translated from `source` into `target` (language tags), one answer per text, in
        order, markup and line breaks kept; `glossary` maps source terms to required target terms."""
        ...
