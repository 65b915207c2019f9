"""The one error the media functions raise for a source they cannot use."""
from __future__ import annotations


class MediaError(Exception):
    """A media file cannot be processed; `reason` is meant for the person who uploaded it.

    `permanent` tells the pipeline whether a retry can help: a damaged or wrong file stays
    damaged (permanent), a timed-out or killed ffmpeg may succeed next time (not permanent).
    """

    def __init__(self, reason: str, permanent: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
