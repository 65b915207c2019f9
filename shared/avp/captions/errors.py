"""Errors raised when caption text cannot be read. They are `Unprocessable` (422) so an
upload of a broken file answers with the line that broke it."""
from __future__ import annotations

from avp.errors import Unprocessable


class CaptionFormatError(Unprocessable):
    """A caption file (WebVTT, SRT) that does not follow its format, at a 1-based line."""

    default_detail = "invalid caption file"

    def __init__(self, message: str, line: int) -> None:
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}")


class VttParseError(CaptionFormatError):
    """A WebVTT file that the W3C parsing rules reject (or that strict mode refuses).
    `problems` lists every (line, message) found, in line order; `line` and `message` are
    the first of them."""

    def __init__(self, message: str, line: int, problems: list[tuple[int, str]] | None = None) -> None:
        self.problems = problems or [(line, message)]
        super().__init__(message, line)
        if len(self.problems) > 1:
            self.detail = "; ".join(f"line {n}: {text}" for n, text in self.problems)
            self.args = (self.detail,)


class SrtParseError(CaptionFormatError):
    """An SRT file with a block that is not `index / timing / text`."""
