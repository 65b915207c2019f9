"""Description deliverables: the described MP3 track and the accessible (extended) MP4.

Extended description freezes the picture at each pause point while its description plays.
The MP4 is smart-rendered: spans between keyframes are stream-copied and only the few
frames around each pause (and the freeze itself) are encoded, so the cost grows with the
number of pauses, not the length of the film. Audio is rebuilt for the whole timeline in
one filter graph because audio is cheap. All times here are seconds.
"""
from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from avp.captions.model import Cue
from avp.describe.fit import STANDARD, PausePoint, Placed
from avp.media.ffmpeg import run
from avp.media.header import parse_input_header
from avp.providers.tts.base import pcm_to_wav

DUCK_DB = -12.0
DUCK_FADE = 0.2  # seconds of ramp either side of a description
MIX_RATE = 48_000
ENCODE_VIDEO = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "18")
_TIMEOUT = 3600


@dataclass(frozen=True)
class SourceVideo:
    """What smart rendering needs to know about the source (read without ffprobe)."""

    fps: Fraction
    codec: str
    pix_fmt: str
    duration: float
    keyframes: tuple[float, ...]  # presentation times, from the start of the file
    has_audio: bool

    def frame(self, t: float) -> int:
        """Index of the frame on screen at `t`, frames being whole periods from 0."""
        return round(t * self.fps)

    def time(self, frame: int) -> float:
        return float(frame / self.fps)

    @property
    def frame_count(self) -> int:
        return int(self.duration * self.fps + Fraction(1, 2))


@dataclass(frozen=True)
class RenderStats:
    """How the MP4 was made: pieces copied vs encoded, frames encoded, wall time."""

    copied_pieces: int = 0
    encoded_pieces: int = 0
    encoded_frames: int = 0
    seconds: float = 0.0
    pieces: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Pause:
    """A pause point snapped to the frame grid: freeze frame `frame` for `frames` frames."""

    frame: int
    frames: int
    cue_index: int


def inspect_video(path: Path) -> SourceVideo:
    """Exact frame rate and keyframe times (decoding keyframes only), plus the input header."""
    proc = run(["-skip_frame", "nokey", "-i", path, "-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-"], timeout=_TIMEOUT)
    log = proc.stderr
    header = parse_input_header(log)
    # The header rounds the rate ("29.97 fps"); showinfo states it as a fraction.
    rate = re.search(r"config in time_base: \S+, frame_rate: (\d+)/(\d+)", log)
    if header is None or header.video is None or header.duration is None or not rate:
        raise ValueError(f"cannot read video stream of {path}")
    keyframes = tuple(
        round(float(t) - header.start, 6) for t in re.findall(r"pts_time:(-?\d+(?:\.\d+)?)\s.*?iskey:1", log)
    )
    return SourceVideo(
        fps=Fraction(int(rate.group(1)), int(rate.group(2))),
        codec=header.video.codec,
        pix_fmt=header.video.pixel_format or "yuv420p",
        duration=header.duration,
        keyframes=keyframes,
        has_audio=header.audio is not None,
    )


def shift_cues_for_pauses(cues: Sequence[Cue], pause_points: Sequence[PausePoint]) -> list[Cue]:
    """Move cues to the paused timeline. Speech at a pause resumes after the freeze, so a cue
    starting exactly at a pause moves with it; a cue spanning a pause stays up through it."""
    shifted = []
    for cue in cues:
        before_start = sum(p.duration for p in pause_points if p.at <= cue.start)
        before_end = sum(p.duration for p in pause_points if p.at < cue.end)
        shifted.append(
            Cue(cue.start + before_start, cue.end + before_end, cue.text, cue.identifier, dict(cue.settings), dict(cue.data))
        )
    return shifted


def description_track(program_audio_or_video: Path, placed: Sequence[Placed], out_mp3: Path) -> None:
    """The programme's audio with each standard description mixed in at its time, the programme
    ducked under it; MP3. (Extended descriptions need the picture to pause: they live in the MP4.)"""
    clips = [(p.cue.start, p) for p in placed if p.cue.data.get("mode") == STANDARD]
    with tempfile.TemporaryDirectory(prefix="avp-adtrack-") as tmp:
        work = Path(tmp)
        inputs, graph = _audio_graph(work, clips, pauses=[], program="0:a:0", clip_input=1)
        _run_graph(
            work,
            ["-i", program_audio_or_video, *inputs],
            graph,
            ["-map", "[aout]", "-c:a", "libmp3lame", "-q:a", "3"],
            out_mp3,
        )


# MP4 tags languages with ISO 639-2 codes; players show them in their track menus.
ISO_639_2 = {"en": "eng", "fr": "fra", "de": "deu", "es": "spa", "it": "ita", "pt": "por", "nl": "nld", "sv": "swe",
             "da": "dan", "fi": "fin", "nb": "nob", "no": "nor", "pl": "pol", "cs": "ces", "ru": "rus", "uk": "ukr",
             "tr": "tur", "el": "ell", "ar": "ara", "he": "heb", "hi": "hin", "ja": "jpn", "ko": "kor", "zh": "zho"}


def mp4_language(tag: str | None) -> str:
    """The ISO 639-2 code of a BCP-47 tag's language ("und" when unknown)."""
    return ISO_639_2.get((tag or "").split("-")[0].lower(), "und")


def accessible_mp4(
    mezzanine: Path,
    placed: Sequence[Placed],
    pause_points: Sequence[PausePoint],
    captions_cues: Sequence[Cue],
    out_mp4: Path,
    *,
    smart: bool = True,
    language: str | None = None,
) -> RenderStats:
    """The video with a freeze frame at each pause point, descriptions over freezes and ducked
    programme elsewhere, captions and the description text as mov_text tracks on the paused
    timeline, +faststart.

    Assumes a constant-frame-rate source starting at 0 (the mezzanine). `smart=False` (or a
    non-H.264 source) re-encodes the whole picture in one pass instead of copying spans.
    """
    began = time.monotonic()
    info = inspect_video(mezzanine)
    pauses = _snap(pause_points, info)
    snapped_points = [PausePoint(info.time(p.frame), float(p.frames / info.fps), p.cue_index) for p in pauses]
    clips = [(_clip_time(p, i, snapped_points), p) for i, p in enumerate(placed)]
    with tempfile.TemporaryDirectory(prefix="avp-mp4-") as tmp:
        work = Path(tmp)
        subs = work / "captions.vtt"
        subs.write_text(_webvtt(shift_cues_for_pauses(captions_cues, snapped_points)), encoding="utf-8")
        # The description text too, as its own track: screen readers and braille displays read it.
        described = work / "descriptions.vtt"
        described.write_text(_webvtt([Cue(t, t + p.audio.duration, p.cue.text) for t, p in clips]), encoding="utf-8")
        subtitle_args = ["-c:s", "mov_text",
                         "-metadata:s:s:0", "handler_name=Captions", "-metadata:s:s:0", "title=Captions",
                         "-metadata:s:s:1", "handler_name=Descriptions", "-metadata:s:s:1", "title=Descriptions",
                         "-disposition:s:0", "default", "-disposition:s:1", "descriptions",
                         "-metadata:s:a:0", f"language={mp4_language(language)}",
                         "-metadata:s:s:0", f"language={mp4_language(language)}",
                         "-metadata:s:s:1", f"language={mp4_language(language)}",
                         "-movflags", "+faststart"]  # fmt: skip
        if smart and info.codec == "h264":
            # The audio (decoded, mixed and AAC-encoded over the whole timeline: as long as the
            # video pieces on one core) is made on its own core while the video pieces are cut
            # and encoded; the two are then joined without re-encoding either.
            audio = work / "audio.mp4"
            extra, audio_graph = _audio_graph(work, clips, pauses=snapped_points,
                                              program="0:a:0" if info.has_audio else None, clip_input=1)
            with ThreadPoolExecutor(max_workers=1) as pool:
                mixing = pool.submit(_run_graph, work, ["-i", mezzanine, *extra], audio_graph,
                                     ["-map", "[aout]", "-c:a", "aac", "-b:a", "160k"], audio)
                stats = _smart_video(mezzanine, info, pauses, work)
                mixing.result()
            partial = out_mp4.with_name(out_mp4.name + ".part")
            run(["-f", "concat", "-safe", "0", "-i", work / "pieces.txt", "-i", audio, "-i", subs, "-i", described,
                 "-map", "0:v:0", "-map", "1:a:0", "-map", "2:s:0", "-map", "3:s:0", "-c:v", "copy", "-c:a", "copy",
                 *subtitle_args, "-f", "mp4", "-y", partial], timeout=_TIMEOUT)
            partial.replace(out_mp4)
        else:
            stats = RenderStats(encoded_pieces=1, encoded_frames=info.frame_count + sum(p.frames for p in pauses))
            video_graph = _full_video_graph(pauses, info) + ";"
            extra, audio_graph = _audio_graph(work, clips, pauses=snapped_points,
                                              program="0:a:0" if info.has_audio else None, clip_input=1)
            sub_index = 1 + extra.count("-i")
            _run_graph(
                work,
                ["-i", mezzanine, *extra, "-i", subs, "-i", described],
                video_graph + audio_graph,
                ["-map", "[vout]", *ENCODE_VIDEO, "-pix_fmt", info.pix_fmt, "-map", "[aout]", "-c:a", "aac", "-b:a", "160k",
                 "-map", f"{sub_index}:s:0", "-map", f"{sub_index + 1}:s:0", *subtitle_args],
                out_mp4,
            )
    return RenderStats(stats.copied_pieces, stats.encoded_pieces, stats.encoded_frames, time.monotonic() - began, stats.pieces)


def _snap(pause_points: Sequence[PausePoint], info: SourceVideo) -> list[_Pause]:
    """Put pauses on frame boundaries; durations are rounded cumulatively so the total added
    time is off by at most half a frame however many pauses there are."""
    last_frame = max(info.frame_count - 1, 0)
    snapped: list[_Pause] = []
    added = 0.0
    added_frames = 0
    for p in sorted(pause_points, key=lambda p: p.at):
        added += p.duration
        frames = round(added * info.fps) - added_frames
        added_frames += frames
        frame = min(info.frame(p.at), last_frame)
        if snapped and snapped[-1].frame == frame:  # two pauses on one frame freeze once, for both
            snapped[-1] = _Pause(frame, snapped[-1].frames + frames, snapped[-1].cue_index)
        elif frames > 0:
            snapped.append(_Pause(frame, frames, p.cue_index))
    return snapped


def _clip_time(placed: Placed, index: int, pauses: Sequence[PausePoint]) -> float:
    """When a description starts on the paused timeline: an extended one at its own freeze."""
    own = next((p for p in pauses if p.cue_index == index), None)
    at = own.at if own else placed.cue.start
    return at + sum(p.duration for p in pauses if p.at < at - 1e-9)


def _audio_graph(
    work: Path,
    clips: Sequence[tuple[float, Placed]],
    *,
    pauses: Sequence[PausePoint],
    program: str | None,
    clip_input: int,
) -> tuple[list[str | Path], str]:
    """Filter graph ending in [aout]: programme (silence inserted at pauses, ducked under each
    description) plus one description track built by concatenating silences and clips.

    Returns the extra ffmpeg inputs (the clips as one WAV, which becomes input `clip_input`)
    and the graph text. Clip positions are computed in samples so many clips never drift.
    """
    parts: list[str] = []
    inputs: list[str | Path] = []
    if program is None:
        total = max([0.0, *(t + p.audio.duration for t, p in clips)])
        parts.append(f"anullsrc=r={MIX_RATE}:cl=stereo,atrim=end_sample={round(total * MIX_RATE)}[prog]")
    else:
        parts.append(_program_with_pauses(program, pauses))
    duck = ",".join(_duck_filter(t, t + p.audio.duration) for t, p in clips) or "anull"
    parts.append(f"[prog]{duck}[ducked]")
    if not clips:
        parts.append("[ducked]anull[aout]")
        return inputs, ";".join(parts)
    rate = clips[0][1].audio.sample_rate
    if any(p.audio.sample_rate != rate for _, p in clips):
        raise ValueError("descriptions must share one sample rate (one voice per track)")
    wav = work / "clips.wav"
    _write_clips(wav, [p for _, p in clips])
    inputs += ["-i", wav]
    parts.append(f"[{clip_input}:a:0]asplit={len(clips)}" + "".join(f"[c{i}]" for i in range(len(clips))))
    segments = []
    cursor = offset = 0
    for i, (t, p) in enumerate(sorted(clips, key=lambda c: c[0])):
        length = len(p.audio.pcm) // 2
        silence = max(round(t * rate) - cursor, 0)
        if silence:
            parts.append(f"anullsrc=r={rate}:cl=mono,atrim=end_sample={silence}[z{i}]")
            segments.append(f"[z{i}]")
        parts.append(f"[c{i}]atrim=start_sample={offset}:end_sample={offset + length},asetpts=PTS-STARTPTS[d{i}]")
        segments.append(f"[d{i}]")
        cursor += silence + length
        offset += length
    parts.append(
        "".join(segments) + f"concat=n={len(segments)}:v=0:a=1,aresample={MIX_RATE},"
        "aformat=sample_fmts=fltp:channel_layouts=stereo[desc]"
    )
    parts.append("[ducked][desc]amix=inputs=2:normalize=0:duration=longest[aout]")
    return inputs, ";".join(parts)


def _program_with_pauses(program: str, pauses: Sequence[PausePoint]) -> str:
    """[prog]: the programme audio at MIX_RATE stereo, with silence of each pause inserted."""
    head = f"[{program}]aresample={MIX_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
    if not pauses:
        return head + "[prog]"
    cuts = [round(p.at * MIX_RATE) for p in pauses]
    parts = [head + f",asplit={len(cuts) + 1}" + "".join(f"[p{i}]" for i in range(len(cuts) + 1))]
    segments = []
    for i, (start, end) in enumerate(zip([0, *cuts], [*cuts, None])):
        bounds = f"start_sample={start}" + (f":end_sample={end}" if end is not None else "")
        parts.append(f"[p{i}]atrim={bounds},asetpts=PTS-STARTPTS[s{i}]")
        segments.append(f"[s{i}]")
        if i < len(pauses):
            parts.append(
                f"anullsrc=r={MIX_RATE}:cl=stereo,atrim=end_sample={round(pauses[i].duration * MIX_RATE)},"
                f"aformat=sample_fmts=fltp[q{i}]"
            )
            segments.append(f"[q{i}]")
    parts.append("".join(segments) + f"concat=n={len(segments)}:v=0:a=1[prog]")
    return ";".join(parts)


def _duck_filter(start: float, end: float) -> str:
    """Gain 1 outside, DUCK_DB inside [start, end], linear ramps of DUCK_FADE either side."""
    depth = 1 - 10 ** (DUCK_DB / 20)
    a, b = start - DUCK_FADE, end + DUCK_FADE
    ramp = f"clip(min((t-{a:.4f})/{DUCK_FADE}\\,({b:.4f}-t)/{DUCK_FADE})\\,0\\,1)"
    return f"volume=volume='1-{depth:.4f}*{ramp}':eval=frame"


def _write_clips(path: Path, clips: Sequence[Placed]) -> None:
    """All description clips back to back in one mono WAV, in the order they are placed."""
    pcm = b"".join(p.audio.pcm for p in clips)
    path.write_bytes(pcm_to_wav(pcm, clips[0].audio.sample_rate))


def _run_graph(work: Path, inputs: Sequence[str | Path], graph: str, outputs: Sequence[str | Path], out: Path) -> None:
    """Run one ffmpeg with the graph in a file (long graphs exceed the command-line limit),
    writing to a temporary name and moving it into place only when whole."""
    script = work / "graph.txt"
    script.write_text(graph, encoding="utf-8")
    partial = out.with_name(out.name + ".part")
    fmt = out.suffix.lstrip(".")
    run([*inputs, "-/filter_complex", script, *outputs, "-f", fmt, "-y", partial], timeout=_TIMEOUT)
    partial.replace(out)


def _full_video_graph(pauses: Sequence[_Pause], info: SourceVideo) -> str:
    """[vout]: the whole picture decoded once with freeze frames spliced in (the reference path)."""
    if not pauses:
        return "[0:v:0]null[vout]"
    n = len(pauses)
    parts = [f"[0:v:0]split={2 * n + 1}" + "".join(f"[v{i}]" for i in range(2 * n + 1))]
    segments = []
    start = 0
    for i, p in enumerate(pauses):
        parts.append(f"[v{2 * i}]trim=start_frame={start}:end_frame={p.frame},setpts=PTS-STARTPTS[s{i}]")
        parts.append(f"[v{2 * i + 1}]{_freeze_filter(p.frame, p.frames)}[f{i}]")
        segments += [f"[s{i}]", f"[f{i}]"]
        start = p.frame
    parts.append(f"[v{2 * n}]trim=start_frame={start},setpts=PTS-STARTPTS[s{n}]")
    segments.append(f"[s{n}]")
    parts.append("".join(segments) + f"concat=n={len(segments)}:v=1:a=0,fps={info.fps}[vout]")
    return ";".join(parts)


def _freeze_filter(frame: int, frames: int) -> str:
    """Hold frame number `frame` of the filter's input for `frames` frames."""
    return (
        f"trim=start_frame={frame}:end_frame={frame + 1},setpts=PTS-STARTPTS,"
        f"tpad=stop={frames - 1}:stop_mode=clone"
    )


def _smart_video(src: Path, info: SourceVideo, pauses: Sequence[_Pause], work: Path) -> RenderStats:
    """Video pieces for the concat demuxer: copied keyframe-to-keyframe spans, encoded heads and
    tails around each pause, encoded freezes. Writes work/pieces.txt."""
    keys = sorted({info.frame(k) for k in info.keyframes})
    plan: list[tuple[str, int, int | None]] = []  # (kind, first frame, end frame or None = to the end)
    bounds = [0, *(p.frame for p in pauses)]
    for i, start in enumerate(bounds):
        end = pauses[i].frame if i < len(pauses) else None
        if end is not None and end <= start:  # a pause on the very first frame, or two back to back
            plan.append(("freeze", pauses[i].frame, pauses[i].frames))
            continue
        first_key = next((k for k in keys if k >= start and (end is None or k <= end)), None)
        last_key = max((k for k in keys if end is not None and start <= k <= end), default=None)
        copy_to = None if end is None else last_key
        if first_key is None or (copy_to is not None and copy_to <= first_key):
            plan.append(("encode", start, end))
        else:
            if start < first_key:
                plan.append(("encode", start, first_key))
            plan.append(("copy", first_key, copy_to))
            if copy_to is not None and copy_to < end:
                plan.append(("encode", copy_to, end))
        if i < len(pauses):
            plan.append(("freeze", pauses[i].frame, pauses[i].frames))
    copied = _copy_spans(src, info, [(a, b) for kind, a, b in plan if kind == "copy"], work)
    lines, stats_pieces, encoded_frames = [], [], 0
    for n, (kind, a, b) in enumerate(plan):
        piece = work / f"piece{n:04d}.ts"
        if kind == "copy":
            copied[(a, b)].replace(piece)
            frames = (b if b is not None else info.frame_count) - a
        elif kind == "freeze":
            frames = b or 0
            _encode_piece(src, info, a, piece, frames, _freeze_filter(0, frames))
            encoded_frames += frames
        else:
            frames = (b if b is not None else info.frame_count) - a
            _encode_piece(src, info, a, piece, frames if b is not None else None, None)
            encoded_frames += frames
        stats_pieces.append(f"{kind} {a}-{b}")
        # Explicit durations keep every piece on the frame grid; the last piece runs to its end.
        last = n == len(plan) - 1
        lines.append(f"file '{piece.name}'" + ("" if last else f"\nduration {float(frames / info.fps):.6f}"))
    (work / "pieces.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    copies = sum(1 for kind, _, _ in plan if kind == "copy")
    return RenderStats(copies, len(plan) - copies, encoded_frames, 0.0, stats_pieces)


def _copy_spans(
    src: Path, info: SourceVideo, spans: Sequence[tuple[int, int | None]], work: Path
) -> dict[tuple[int, int | None], Path]:
    """Cut the source at every span boundary (all keyframes) with one stream-copy pass."""
    if not spans:
        return {}
    cuts = sorted({f for a, b in spans for f in (a, b) if f is not None and f > 0})
    args: list[str | Path] = ["-i", src, "-map", "0:v:0", "-c", "copy"]
    if cuts:
        # Half a frame early: the segment muxer cuts at the first keyframe at or after each time.
        times = ",".join(f"{float((f - Fraction(1, 2)) / info.fps):.6f}" for f in cuts)
        args += ["-f", "segment", "-segment_format", "mpegts", "-segment_times", times, work / "seg%04d.ts"]
    else:  # one span, the whole stream (the segment muxer would cut every 2 s by default)
        args += ["-f", "mpegts", work / "seg0000.ts"]
    run(["-y", *args], timeout=_TIMEOUT)
    starts = [0, *cuts]
    return {(a, b): work / f"seg{starts.index(a):04d}.ts" for a, b in spans}


def _encode_piece(src: Path, info: SourceVideo, first: int, out: Path, frames: int | None, vf: str | None) -> None:
    """Encode from frame `first` (accurate seek) for `frames` frames, or to the end."""
    seek = float((first - Fraction(1, 4)) / info.fps) if first else 0.0
    args: list[str | Path] = ["-ss", f"{max(seek, 0.0):.6f}", "-i", src, "-map", "0:v:0"]
    if vf:
        args += ["-vf", vf]
    if frames is not None:
        args += ["-frames:v", str(frames)]
    run([*args, *ENCODE_VIDEO, "-pix_fmt", info.pix_fmt, "-r", str(info.fps), "-an", "-f", "mpegts", "-y", out], timeout=_TIMEOUT)


def _webvtt(cues: Sequence[Cue]) -> str:
    def stamp(t: float) -> str:
        ms = round(max(t, 0.0) * 1000)
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    blocks = [f"{stamp(c.start)} --> {stamp(c.end)}\n{c.text}" for c in cues]
    return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"
