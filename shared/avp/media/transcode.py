"""The mezzanine MP4 every later step reads, and the 16 kHz mono WAV speech recognition reads."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from avp.media.atomic import atomic_output
from avp.media.errors import MediaError
from avp.media.info import AudioInfo, MediaInfo, VideoInfo
from avp.media.runner import run_media

MEZZANINE_SAMPLE_RATE = 48_000
MEZZANINE_CHANNELS = 2
# Audio-only sources get a still picture of this size so shots, keyframes and rendering work.
STILL_SIZE = (640, 360)
STILL_FPS = 1
SPEECH_SAMPLE_RATE = 16_000
_X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
_STILL_X264 = [*_X264, "-tune", "stillimage", "-r", str(STILL_FPS)]
_AAC = ["-c:a", "aac", "-b:a", "160k", "-ar", str(MEZZANINE_SAMPLE_RATE), "-ac", str(MEZZANINE_CHANNELS)]


class VideoSource(Enum):
    """Where the mezzanine's picture comes from."""

    SOURCE = "source"  # the source's own video stream
    COVER_ART = "cover_art"  # an audio file's embedded picture, held for the whole length
    BLACK = "black"  # a black frame, for audio without a picture


@dataclass(frozen=True)
class MezzaninePlan:
    """What `make_mezzanine` does with each stream; copying is a remux, far faster than encoding."""

    video_source: VideoSource
    copy_video: bool
    copy_audio: bool
    silent_audio: bool  # the source has no audio, so a silent track is added


def plan_mezzanine(info: MediaInfo) -> MezzaninePlan:
    """Decide, from the probe alone, which streams can be copied and which must be made."""
    if info.video is not None:
        video_source = VideoSource.SOURCE
    else:
        video_source = VideoSource.COVER_ART if info.cover_art else VideoSource.BLACK
    return MezzaninePlan(
        video_source=video_source,
        copy_video=info.video is not None and _video_fits(info.video),
        copy_audio=info.audio is not None and _audio_fits(info.audio),
        silent_audio=info.audio is None,
    )


def make_mezzanine(src: str | Path, dst: str | Path, info: MediaInfo) -> None:
    """Write the mezzanine: H.264 yuv420p (even size, upright) + AAC 48 kHz stereo, `+faststart` MP4.

    Streams that already fit are copied. `info` is `probe(src)`. Raises `MediaError`.
    """
    plan = plan_mezzanine(info)
    with atomic_output(dst) as partial:
        args = [*_inputs(Path(src), plan, info), *_video_args(plan), *_audio_args(plan)]
        run_media(
            [*args, "-t", f"{info.duration:.3f}", "-movflags", "+faststart", "-f", "mp4", partial],
            timeout=_encode_timeout(info.duration),
            action="Converting the file",
        )


def extract_speech_wav(src: str | Path, dst: str | Path, *, timeout: float = 600.0) -> None:
    """Write the first audio stream of `src` as a 16 kHz mono 16-bit WAV (what ASR and VAD read)."""
    with atomic_output(dst) as partial:
        try:
            run_media(
                ["-i", src, "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(SPEECH_SAMPLE_RATE),
                 "-c:a", "pcm_s16le", "-f", "wav", partial],
                timeout=timeout,
                action="Extracting the speech audio",
            )
        except MediaError as exc:
            # ffmpeg's wording for a missing stream ("Stream map '' matches no streams") helps nobody.
            if "matches no streams" in exc.reason:
                raise MediaError("The file has no audio track to take speech from.") from exc
            raise


def _video_fits(video: VideoInfo) -> bool:
    # A rotated stream would play upright only where players honour the matrix; we bake it in.
    return (
        video.codec == "h264"
        and video.pixel_format == "yuv420p"
        and video.rotation == 0
        and video.width % 2 == 0
        and video.height % 2 == 0
    )


def _audio_fits(audio: AudioInfo) -> bool:
    return (
        audio.codec == "aac"
        and audio.sample_rate == MEZZANINE_SAMPLE_RATE
        and audio.channels == MEZZANINE_CHANNELS
    )


def _inputs(src: Path, plan: MezzaninePlan, info: MediaInfo) -> list[str | Path]:
    """Input 0 is always the source; input 1 is a generated black picture or silence if needed."""
    inputs: list[str | Path] = ["-i", src]
    if plan.video_source is VideoSource.BLACK:
        width, height = STILL_SIZE
        inputs += ["-f", "lavfi", "-i", f"color=black:s={width}x{height}:r={STILL_FPS}:d={info.duration:.3f}"]
    elif plan.silent_audio:
        inputs += ["-f", "lavfi", "-i", f"anullsrc=r={MEZZANINE_SAMPLE_RATE}:cl=stereo"]
    return inputs


def _video_args(plan: MezzaninePlan) -> list[str]:
    if plan.video_source is VideoSource.BLACK:
        return ["-map", "1:v:0", *_STILL_X264]
    if plan.video_source is VideoSource.COVER_ART:
        width, height = STILL_SIZE
        # The cover is one frame: loop it forever at STILL_FPS and let -t end it with the audio.
        still = (
            # Cover art is usually full-range JPEG; out_range=tv keeps the output plain yuv420p.
            f"[0:v:0]scale={width}:{height}:force_original_aspect_ratio=decrease:out_range=tv,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,"
            f"loop=loop=-1:size=1,setpts=N/({STILL_FPS}*TB),settb=1/{STILL_FPS}[still]"
        )
        return ["-filter_complex", still, "-map", "[still]", *_STILL_X264]
    if plan.copy_video:
        return ["-map", "0:V:0", "-c:v", "copy"]
    # ffmpeg turns rotated input upright while decoding; the scale keeps both sides even for x264.
    return ["-map", "0:V:0", "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", *_X264]


def _audio_args(plan: MezzaninePlan) -> list[str]:
    if plan.silent_audio:
        return ["-map", "1:a:0", *_AAC]
    return ["-map", "0:a:0", *(["-c:a", "copy"] if plan.copy_audio else _AAC)]


def _encode_timeout(duration: float) -> float:
    # Generous: x264 "veryfast" on a busy 2-core machine runs near real time at 1080p.
    return 300.0 + 10.0 * duration
