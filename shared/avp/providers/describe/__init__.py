"""Description writing: one interface (base.Describer), a local drafting adapter and a Gemini one."""
from __future__ import annotations

from collections.abc import Mapping

from avp.providers.describe.base import DescribeError, DescribeInput, Describer, Description, Keyframe

__all__ = ["DescribeError", "DescribeInput", "Describer", "Description", "Keyframe", "get_describer"]


def get_describer(provider: str, settings: Mapping[str, str] | None = None) -> Describer:
    """Build the named describer. Settings keys for gemini: `api_key`, `base_url`, `model`."""
    settings = settings or {}
    if provider == "local":
        from avp.providers.describe.local import LocalDescriber

        return LocalDescriber()
    if provider == "gemini":
        from avp.providers.describe.gemini import DEFAULT_MODEL, GeminiDescriber

        return GeminiDescriber(
            api_key=settings.get("api_key"), base_url=settings.get("base_url"), model=settings.get("model", DEFAULT_MODEL)
        )
    raise DescribeError(f"unknown describer {provider!r} (local, gemini)", permanent=True)
