"""The media steps, one function each: read inputs from storage, compute, write outputs, and
return what to record on the job (a StepResult with typed assets and per-language reports, or
plain job fields). Each is idempotent: a rerun recomputes and overwrites
whole objects, so a step killed half-way and retried ends with the same outputs."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from avp import logs
from avp.captions.model import Cue, Word
from avp.domain import glossaries
from avp.domain.jobs import StepResult
from avp.domain.model import language_outputs
from avp.pipeline.context import PermanentStepError, StepContext

log = logs.get("pipeline.steps")
MEZZANINE, SPEECH_WAV = "mezzanine.mp4", "speech.wav"
TRANSCRIPT, SHOTS, DESCRIPTIONS, FIT = "transcript.json", "shots.json", "descriptions.json", "fit.json"


def _requested(ctx: StepContext) -> dict[str, Any]:
    return ctx.job.get("requested_outputs") or {}


def _source_language(ctx: StepContext) -> str:
    return ctx.job.get("source_language") or ctx.job.get("detected_language") or "en"


def _preset(ctx: StepContext):
    from avp.captions.presets import get_preset

    return get_preset(_requested(ctx).get("style_preset") or ctx.job.get("style_preset") or "netflix-en")


def ingest(ctx: StepContext) -> dict[str, Any]:
    """Probe the upload, refuse what is not usable media, write the mezzanine and the speech WAV."""
    from avp.media.errors import MediaError
    from avp.media.probe import probe
    from avp.media.transcode import extract_speech_wav, make_mezzanine

    source = ctx.fetch(ctx.job["source_path"])
    try:
        info = probe(source)
        ctx.progress(0.2)
        mezzanine = ctx.local(MEZZANINE)
        make_mezzanine(source, mezzanine, info)
        ctx.progress(0.7)
        wav = ctx.local(SPEECH_WAV)
        extract_speech_wav(mezzanine, wav)
    except MediaError as exc:
        if exc.permanent:
            raise PermanentStepError(str(exc.reason)) from exc
        raise
    ctx.put(ctx.work_path(MEZZANINE), mezzanine, "video/mp4")
    ctx.put(ctx.work_path(SPEECH_WAV), wav, "audio/wav")
    video = info.video
    media = {
        "duration": info.duration, "format": info.format_name, "has_video": info.has_video, "has_audio": info.has_audio,
        "audio_only": info.is_audio_only,
        "width": video.display_width if video else None, "height": video.display_height if video else None,
        "fps": video.fps if video else None, "rotation": video.rotation if video else 0,
        "video_codec": video.codec if video else None, "audio_codec": info.audio.codec if info.audio else None,
    }
    return {"media": media}


def _asr_options(ctx: StepContext, provider: str) -> dict[str, Any]:
    if provider == "whisper":
        return {"vad_filter": ctx.container.settings.asr_vad}
    if provider == "video_intelligence":
        # The speech WAV is already in the job's bucket: the service reads it from there.
        uri = ctx.storage.uri(ctx.work_path(SPEECH_WAV))
        return {"stage_audio": lambda _path: uri}
    return {}


def transcribe(ctx: StepContext) -> dict[str, Any]:
    """Speech to timed words with the job's (or the deployment's) recognizer."""
    from avp.providers.asr.base import AsrError, get_transcriber
    from avp.providers.offer import asr_id

    provider = asr_id(_requested(ctx).get("asr_provider") or ctx.container.settings.asr_provider)
    wav = ctx.fetch(ctx.work_path(SPEECH_WAV))
    try:
        # Decoding only voiced stretches is several times faster on films with long silences (60 s
        # 720p example: 5.8 s instead of 39 s) and keeps word times (see LocalSettings.vad_filter).
        transcriber = get_transcriber(provider, **_asr_options(ctx, provider))
    except ValueError as exc:  # a configuration mistake: no retry will fix it
        raise PermanentStepError(str(exc)) from exc
    try:
        transcript = transcriber.transcribe(wav, language=ctx.job.get("source_language"))
    except AsrError as exc:
        if exc.permanent:
            raise PermanentStepError(f"speech recognition failed: {exc}") from exc
        raise
    ctx.put_json(ctx.work_path(TRANSCRIPT), {
        "language": transcript.language, "language_probability": transcript.language_probability,
        "provider": transcript.provider, "duration": transcript.duration, "notes": transcript.notes,
        "words": [dataclasses.asdict(w) for w in transcript.words],
    })
    changes: dict[str, Any] = {"detected_language": transcript.language, "notes_pipeline": transcript.notes}
    if not ctx.job.get("source_language"):
        changes["source_language"] = transcript.language
    return changes


def shots(ctx: StepContext) -> dict[str, Any]:
    """Shot boundaries, one keyframe per shot, and the on-screen text of each keyframe."""
    from avp.media.ocr import detect_text
    from avp.media.shots import detect_shots, extract_keyframes

    mezzanine = ctx.fetch(ctx.work_path(MEZZANINE))
    found = detect_shots(mezzanine)
    ctx.progress(0.4)
    frames = extract_keyframes(mezzanine, found, ctx.workdir / "keyframes")
    texts = detect_text(frames)
    found = [dataclasses.replace(s, text=t.text) for s, t in zip(found, texts)]
    for frame in frames:  # kept for describers that look at the pictures
        ctx.put(ctx.work_path(f"keyframes/{frame.name}"), frame, "image/jpeg")
    ctx.put_json(ctx.work_path(SHOTS), [dataclasses.asdict(s) for s in found])
    return {"shot_count": len(found)}


def _words(ctx: StepContext) -> list[Word]:
    return [Word(**w) for w in ctx.get_json(ctx.work_path(TRANSCRIPT))["words"]]


def _shots(ctx: StepContext) -> list:
    from avp.media.shots import Shot

    if not ctx.storage.exists(ctx.work_path(SHOTS)):
        return []
    return [Shot(**s) for s in ctx.get_json(ctx.work_path(SHOTS))]


def _save_track(ctx: StepContext, lang: str, kind: str, cues: list[Cue]) -> dict[str, Any]:
    from avp.captions.vtt import write_vtt
    from avp.domain import tracks
    from avp.domain.audit import SYSTEM

    content = write_vtt(cues, kind="descriptions" if kind == "descriptions" else None)
    return tracks.save_version(ctx.store, ctx.storage, SYSTEM, ctx.job_id, lang, kind, content, source="pipeline")


def captions(ctx: StepContext) -> dict[str, Any]:
    """Segment the words into caption cues that meet the job's style preset, save version 1."""
    from avp.captions.segment import segment_words

    words = _words(ctx)
    shot_changes = [s.start for s in _shots(ctx)[1:]]
    duration = (ctx.job.get("media") or {}).get("duration")
    cues = segment_words(words, _preset(ctx), shot_changes=shot_changes, media_duration=duration)
    version = _save_track(ctx, _source_language(ctx), "captions", cues)
    changes: dict[str, Any] = {"caption_cues": len(cues), "caption_qc": version.get("qc")}
    if not words:
        changes["notes_pipeline"] = ["no speech found: the captions are empty"]
    return changes


def describe(ctx: StepContext) -> dict[str, Any]:
    """Draft descriptions for the dialogue gaps (local drafter or a vision model)."""
    from avp.media.gaps import dialogue_gaps, speech_regions
    from avp.providers.describe import DescribeError, get_describer
    from avp.providers.describe.base import DescribeInput

    duration = ctx.job["media"]["duration"]
    words = _words(ctx)
    gaps = dialogue_gaps(words, speech_regions(ctx.fetch(ctx.work_path(SPEECH_WAV))), duration)
    ctx.progress(0.3)
    provider = _requested(ctx).get("describe_provider") or ctx.container.settings.describe_provider
    shots = _shots(ctx)
    keyframes = [] if provider == "local" else _keyframes(ctx, shots)  # the local drafter reads only OCR text
    material = DescribeInput(duration=duration, shots=shots, gaps=gaps, language=_source_language(ctx),
                             transcript=_track_cues(ctx, _source_language(ctx), "captions_vtt"), keyframes=keyframes)
    settings = {"api_key": ctx.container.settings.gemini_api_key or ""} if provider == "gemini" else None
    try:
        descriptions = get_describer(provider, settings).describe(material)
    except DescribeError as exc:
        if exc.permanent:
            raise PermanentStepError(f"description provider: {exc}") from exc
        raise
    ctx.put_json(ctx.work_path(DESCRIPTIONS), {
        "gaps": [dataclasses.asdict(g) for g in gaps],
        "descriptions": [dataclasses.asdict(d) for d in descriptions],
    })
    return {"description_count": len(descriptions)}


def _keyframes(ctx: StepContext, shots: list) -> list:
    from avp.providers.describe.base import Keyframe

    stored = set(ctx.storage.list(ctx.work_path("keyframes/")))  # one listing, then one read per frame
    paths = {s.keyframe_time: ctx.work_path(f"keyframes/shot_{s.index:04d}.jpg") for s in shots}
    return [Keyframe(time=t, jpeg=ctx.storage.read_bytes(path)) for t, path in paths.items() if path in stored]


def _tts(ctx: StepContext, lang: str):
    """The speech synthesizer and the voice for `lang`: the language's retry_tts choice, the job's
    voice for that language, its default voice for the source language, else the provider's first
    voice of the language."""
    from avp.providers.tts import TtsError, get_tts
    from avp.providers.tts.base import voice_for_language

    # A retry_tts of this language chose its own voice: it wins over the job's preferences.
    override = (ctx.job.get("tts_overrides") or {}).get(lang) or {}
    prefs = {**(_requested(ctx).get("tts_preferences") or {}), **override}
    provider = prefs.get("provider") or ctx.container.settings.tts_provider
    if provider == "gemini" and not ctx.container.settings.gemini_api_key:
        raise PermanentStepError("Gemini voices were asked for (by the job's tts_preferences or AVP_TTS_PROVIDER) but "
                                 "this deployment has no Gemini API key; set GEMINI_API_KEY, or retry_tts with "
                                 "tts_preferences.provider \"espeak\"")
    tts = get_tts(provider, {"api_key": ctx.container.settings.gemini_api_key or "", "model": prefs.get("model") or ""}
                  if provider == "gemini" else None)
    voice = (prefs.get("voices") or {}).get(lang) or override.get("default_voice") or \
        (prefs.get("default_voice") if lang == _source_language(ctx) else None)
    if voice:
        return tts, voice
    voices = list(tts.voices())
    if all(v.language == "multi" for v in voices):  # Gemini's voices speak every language
        return tts, voices[0].id
    try:
        return tts, voice_for_language(voices, lang).id
    except TtsError as exc:
        raise PermanentStepError(f"{exc} in {provider}; choose one in tts_preferences.voices") from exc


def synthesize(ctx: StepContext) -> StepResult:
    """Voice every description and fit it into the gaps; what does not fit becomes a pause point.
    Placeholders stay in the saved track, unvoiced, for the describer."""
    from avp.describe.fit import fit_descriptions
    from avp.media.gaps import Gap
    from avp.providers.describe.base import Description

    lang = ctx.language or _source_language(ctx)
    tts, voice = _tts(ctx, lang)  # first: a voice this deployment cannot use fails before any work
    data = ctx.get_json(ctx.work_path(DESCRIPTIONS))
    gaps = [Gap(**g) for g in data["gaps"]]
    if lang == _source_language(ctx) and not _edited_by_people(ctx, lang, "descriptions"):
        descriptions = [Description(**d) for d in data["descriptions"]]
    else:  # voice the language's own track: translated, or edited by a describer or linguist
        descriptions = [Description(start_target=float(c.data.get("target", c.start)), text=c.text,
                                    priority=int(c.data.get("priority", 2)), draft=bool(c.data.get("draft", False)),
                                    source=str(c.data.get("source", "track")), end=c.end)
                        for c in _track_cues(ctx, lang, "description_vtt")]
    result = fit_descriptions(descriptions, [g for g in gaps if g.usable],
                              lambda text, rate: tts.synthesize(text, voice=voice, rate=rate),
                              duration=ctx.job["media"]["duration"])
    ctx.progress(0.7)
    # Each voice file is named after its cue's place in the track (placeholders have none).
    for index, placed in zip(result.voiced_index, result.placed):
        ctx.storage.write_bytes(ctx.work_path(f"{lang}/voice/{index:04d}.wav"), placed.audio.audio, "audio/wav")
    pause_points = [{**p.to_json(), "text": result.cues[p.cue_index].text} for p in result.pause_points]
    ctx.put_json(ctx.output_path(lang, "pause_points.json"), pause_points)
    ctx.put_json(ctx.output_path(lang, "fit_report.json"), {**result.report.to_json(), "voice": voice})
    _save_track(ctx, lang, "descriptions", result.cues)
    made = StepResult()
    made.report(lang, pause_points=ctx.output_path(lang, "pause_points.json"), fit_report={**result.report.to_json(), "voice": voice})
    return made


def _edited_by_people(ctx: StepContext, lang: str, kind: str) -> bool:
    """Whether the track's current version came from a person (an edit, upload, restore...), not
    from the pipeline: re-voicing must then speak what they wrote, not the original drafts."""
    from avp.domain import tracks
    from avp.errors import NotFound

    try:
        return tracks.version_meta(ctx.store, ctx.job_id, lang, kind).source != "pipeline"
    except NotFound:
        return False


def _track_cues(ctx: StepContext, lang: str, kind: str) -> list[Cue]:
    from avp.captions.vtt import parse_vtt

    path = language_outputs(ctx.job, lang).asset(kind).path
    return parse_vtt(ctx.fetch(path).read_text()).cues if path else []


def translate(ctx: StepContext) -> dict[str, Any]:
    """Start a target language's tracks from the source ones: machine-translated drafts with a
    translation provider (the job's glossary terms passed along); with none (the offline default)
    untranslated drafts, flagged so, for the linguist to translate."""
    from avp.providers.translate import TranslateError, get_translator

    lang, source = ctx.language, _source_language(ctx)
    if not lang:
        raise PermanentStepError("translate needs --language")
    provider = ctx.container.settings.translate_provider
    captions_cues = _track_cues(ctx, source, "captions_vtt")
    descriptions = _track_cues(ctx, source, "description_vtt")
    if provider == "none":
        machine_translated, flags = False, {"untranslated": True}
        note = f"no translation provider configured: the {lang} tracks are untranslated {source} drafts for the linguist"
    else:
        glossary = glossaries.translation_terms(ctx.store, ctx.job.get("glossary_id"), source, lang)
        try:
            translator = get_translator(provider, {"api_key": ctx.container.settings.gemini_api_key})
            for cues in (captions_cues, descriptions):
                texts = translator.translate([c.text for c in cues], source=source, target=lang, glossary=glossary)
                for cue, text in zip(cues, texts, strict=True):
                    cue.text = text
        except TranslateError as exc:
            if exc.permanent:
                raise PermanentStepError(f"translation failed: {exc}") from exc
            raise
        machine_translated, flags = True, {"machine_translated": True}
        note = f"machine-translated from {source} by {provider}: drafts for the linguist to check"
    for cue in captions_cues:
        cue.data = {**cue.data, **flags}
    _save_track(ctx, lang, "captions", captions_cues)
    if descriptions:
        for cue in descriptions:
            cue.data = {**cue.data, **flags, "draft": True}
        _save_track(ctx, lang, "descriptions", descriptions)
    return {f"languages.{lang}.machine_translated": machine_translated, f"languages.{lang}.cues_total": len(captions_cues),
            f"languages.{lang}.translation_note": note}


def _placed(ctx: StepContext, lang: str) -> tuple[list, dict[int, int]]:
    """The voiced descriptions of the track (what synthesize voiced: never a placeholder) with
    their speech, and for each the position in the track -> the position among them."""
    from avp.captions.vtt import parse_vtt
    from avp.describe.drafts import is_placeholder
    from avp.describe.fit import EXTENDED, STANDARD, Placed
    from avp.providers.tts.base import Synthesis

    cues = parse_vtt(ctx.fetch(language_outputs(ctx.job, lang).asset("description_vtt").path).read_text()).cues
    voiced = [i for i, cue in enumerate(cues) if cue.data.get("mode") in (STANDARD, EXTENDED) and not is_placeholder(cue.text)]
    placed = [Placed(cue=cues[i], audio=Synthesis.from_wav(ctx.storage.read_bytes(ctx.work_path(f"{lang}/voice/{i:04d}.wav"))))
              for i in voiced]
    return placed, {track_index: n for n, track_index in enumerate(voiced)}


def render(ctx: StepContext) -> StepResult:
    """The description MP3 (standard descriptions over ducked programme) and the accessible MP4."""
    from avp.captions.vtt import parse_vtt
    from avp.describe.fit import PausePoint
    from concurrent.futures import ThreadPoolExecutor

    from avp.media.render import accessible_mp4, description_track

    lang = ctx.language or _source_language(ctx)
    requested = _requested(ctx)
    ctx.refresh()
    mezzanine = ctx.fetch(ctx.work_path(MEZZANINE))
    placed, among_voiced = _placed(ctx, lang)
    made = StepResult()
    # The MP3 is one ffmpeg on one core; it runs while the MP4 is made (a 10-minute film: about
    # as long as one plain decode each).
    pool = ThreadPoolExecutor(max_workers=1)
    mp3 = ctx.local(f"{lang}/description.mp3")
    mixing = pool.submit(description_track, mezzanine, placed, mp3) if requested.get("audio_description_mp3") else None
    pool.shutdown(wait=False)
    if requested.get("accessible_video_mp4"):
        outputs = language_outputs(ctx.job, lang)
        pauses = [PausePoint(at=p["at"], duration=p["duration"], cue_index=among_voiced[p["cue_index"]])
                  for p in ctx.get_json(outputs.pause_points) if p["cue_index"] in among_voiced]
        captions_path = outputs.asset("captions_vtt").path or \
            language_outputs(ctx.job, _source_language(ctx)).asset("captions_vtt").path
        caption_cues = parse_vtt(ctx.fetch(captions_path).read_text()).cues if captions_path else []
        mp4 = ctx.local(f"{lang}/accessible.mp4")
        stats = accessible_mp4(mezzanine, placed, pauses, caption_cues, mp4, language=lang)
        made.asset(lang, "accessible_mp4", ctx.put_asset(ctx.output_path(lang, "accessible.mp4"), mp4, "video/mp4"))
        made.report(lang, render_stats=dataclasses.asdict(stats) if dataclasses.is_dataclass(stats) else stats)
    if mixing is not None:
        mixing.result()
        made.asset(lang, "description_mp3", ctx.put_asset(ctx.output_path(lang, "description.mp3"), mp3, "audio/mpeg"))
    return made


STEPS: dict[str, Callable[[StepContext], dict[str, Any] | StepResult]] = {
    "ingest": ingest, "transcribe": transcribe, "shots": shots, "captions": captions,
    "describe": describe, "synthesize": synthesize, "render": render, "translate": translate,
}
