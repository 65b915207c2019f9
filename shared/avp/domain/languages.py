"""Language tags: the one definition of a BCP 47 tag (RFC 5646's `langtag`) the server and the
contract (`openapi.yaml` LanguageTag, same pattern, same length bound) both use.

BCP 47 tags are case-insensitive, so the pattern accepts any case (`en-us` is eSpeak's way of
writing `en-US`); what the server stores is the canonical case (`normalize_language`). Grandfathered
tags (`i-klingon`) and tags that are only private use (`x-foo`) are not accepted: no job speaks them.
"""
from __future__ import annotations

import re
from typing import Any

from avp.errors import Unprocessable

MAX_LENGTH = 35  # RFC 5646 section 4.4.1: room for any tag without extensions or private use
# language (2-3 letters, up to three 3-letter extended subtags), script (4 letters), region
# (2 letters or 3 digits), variants (5-8 alphanumerics, or a digit and 3 more), extensions (a
# singleton other than x, then subtags of 2-8), private use (x, then subtags of 1-8).
PATTERN = (r"^[A-Za-z]{2,3}(-[A-Za-z]{3}){0,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?"
           r"(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*(-[0-9A-WY-Za-wy-z](-[A-Za-z0-9]{2,8})+)*"
           r"(-[Xx](-[A-Za-z0-9]{1,8})+)?$")
LANGUAGE_TAG = re.compile(PATTERN)


def is_language_tag(tag: Any) -> bool:
    """True for well-formed BCP 47 tags in any case (`fr`, `en-GB`, `en-us`, `yue`, `zh-Hans-CN`,
    `es-419`, `en-GB-x-rp`); False for anything else."""
    return isinstance(tag, str) and len(tag) <= MAX_LENGTH and bool(LANGUAGE_TAG.match(tag))


def normalize_language(tag: str) -> str:
    """The canonical case of a BCP 47 tag: `EN-us` -> `en-US`, `zh-hans-cn` -> `zh-Hans-CN`
    (letters after a singleton such as `x` stay lower case)."""
    parts = tag.strip().split("-")
    out = [parts[0].lower()]
    singleton = False
    for part in parts[1:]:
        if singleton or len(part) == 1:
            singleton = True
            out.append(part.lower())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def language(tag: Any, field: str) -> str:
    """`tag` in its canonical case, or 422 naming `field`."""
    if not is_language_tag(tag):
        raise Unprocessable({field: [f"not a BCP-47 language tag: {str(tag)[:40]!r}"]})
    return normalize_language(tag)
