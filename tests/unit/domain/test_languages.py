"""One language-tag rule: BCP 47 (RFC 5646) in any case, the same pattern and bound as the contract's LanguageTag."""
from __future__ import annotations

import pytest
import yaml

from avp.domain import languages
from avp.errors import Unprocessable
from tests.openapi_client import OPENAPI


@pytest.mark.parametrize("tag, canonical", [
    ("fr", "fr"), ("EN-gb", "en-GB"), ("en-us", "en-US"), ("yue", "yue"), ("zh-hans-cn", "zh-Hans-CN"),
    ("es-419", "es-419"), ("zh-yue-HK", "zh-yue-HK"), ("de-CH-1901", "de-CH-1901"), ("sl-rozaj-biske", "sl-rozaj-biske"),
    ("en-GB-x-RP", "en-GB-x-rp"), ("en-a-bbb-x-a-ccc", "en-a-bbb-x-a-ccc"), ("cmn-latn-pinyin", "cmn-Latn-pinyin"),
])
def test_well_formed_tags_are_accepted_and_canonicalised(tag, canonical):
    assert languages.is_language_tag(tag) and languages.language(tag, "language") == canonical


@pytest.mark.parametrize("tag", ["", "e", "english", "fr-", "fr--CA", "en-us-nyc", "x-foo", "i-klingon", "fr_CA",
                                 "en-GB-x", "fr-" + "a" * 40, None, 7])
def test_anything_else_is_refused(tag):
    assert not languages.is_language_tag(tag)
    with pytest.raises(Unprocessable):
        languages.language(tag, "language")


def test_the_contract_states_the_same_rule():
    tag = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))["components"]["schemas"]["LanguageTag"]
    assert tag["pattern"] == languages.PATTERN and tag["maxLength"] == languages.MAX_LENGTH
