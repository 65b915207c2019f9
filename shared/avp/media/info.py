"""Typed description of a media file, as `probe` reports it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VideoInfo:
    """The first real video stream (cover art does not count).

    `rotation` is the clockwise turn, in degrees (0, 90, 180 or 270), a player applies
    before showing the picture; `width`/`height` are the coded size before that turn.
    """

    codec: str
    width: int
    height: int
    fps: float
    fps_rational: str
    pixel_format: str | None = None
    rotation: int = 0
    bitrate: int | None = None

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, 270) else self.height


@dataclass(frozen=True)
class AudioInfo:
    """The first audio stream."""

    codec: str
    sample_rate: int
    channels: int
    channel_layout: str | None = None
    bitrate: int | None = None


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds; `duration` is in seconds, `bitrate` in bits per second."""

    format_name: str
    duration: float
    video: VideoInfo | None
    audio: AudioInfo | None
    bitrate: int | None = None
    cover_art: bool = False

    @property
    def has_video(self) -> bool:
        return self.video is not None

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    @property
    def is_audio_only(self) -> bool:
        """True for sound without moving pictures, e.g. an MP3 whose only image is its cover."""
        return self.has_audio and not self.has_video
