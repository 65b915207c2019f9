"""Captions: the cue model, WebVTT, style presets, segmentation, QC and export formats."""
from avp.captions.errors import CaptionFormatError, SrtParseError, VttParseError
from avp.captions.formats import export, from_srt, to_srt, to_ttml
from avp.captions.model import Cue, Word
from avp.captions.presets import PRESETS, StylePreset, get_preset
from avp.captions.qc import QcReport, Violation, check_cues, check_vtt
from avp.captions.segment import Segment, segment, segment_words
from avp.captions.vtt import CueLayout, VttDocument, VttNote, VttRegion, VttWarning, parse_vtt, write_vtt

__all__ = [
    "CaptionFormatError", "Cue", "CueLayout", "PRESETS", "QcReport", "Segment", "SrtParseError", "StylePreset",
    "Violation", "VttDocument", "VttNote", "VttParseError", "VttRegion", "VttWarning", "Word", "check_cues",
    "check_vtt", "export", "from_srt", "get_preset", "parse_vtt", "segment", "segment_words",
    "to_srt", "to_ttml", "write_vtt",
]
