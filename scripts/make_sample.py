"""Make the bundled demo video: three scenes with on-screen text, synthetic narration with a long
silent stretch between, so the demo exercises captions, descriptions and pause points.

    .venv/bin/python scripts/make_sample.py [OUT]   (default: shared/avp/demo_media/sample.mp4)
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from avp.media.ffmpeg import run
from avp.providers.tts.local import EspeakTts

SIZE = (640, 360)
SCENES = [  # (duration s, background, text colour, title, subtitle)
    (9.0, (20, 40, 90), (255, 255, 255), "Harbour Lights", "A short film about the sea"),
    (12.0, (10, 110, 110), (255, 255, 255), "Chapter One", "The Lighthouse"),
    (9.0, (235, 225, 200), (40, 30, 20), "The End", "Thank you for watching"),
]
NARRATION = [  # (start s, text)
    (0.6, "Welcome to the harbour. Every evening, the fishing boats come home before the sun goes down."),
    (21.5, "The lighthouse keeps watch over the harbour through the night."),
]


def _card(path: Path, background, colour, title: str, subtitle: str) -> None:
    image = Image.new("RGB", SIZE, background)
    draw = ImageDraw.Draw(image)
    big, small = ImageFont.load_default(size=56), ImageFont.load_default(size=30)
    for text, font, y in ((title, big, 120), (subtitle, small, 210)):
        width = draw.textlength(text, font=font)
        draw.text(((SIZE[0] - width) / 2, y), text, font=font, fill=colour)
    image.save(path)


def make(out: Path) -> None:
    tts = EspeakTts()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        inputs, filters = [], []
        for i, (duration, bg, fg, title, subtitle) in enumerate(SCENES):
            card = work / f"scene{i}.png"
            _card(card, bg, fg, title, subtitle)
            inputs += ["-loop", "1", "-framerate", "24", "-t", str(duration), "-i", str(card)]
            filters.append(f"[{i}:v]format=yuv420p,setsar=1[v{i}]")
        total = sum(s[0] for s in SCENES)
        video_inputs = len(SCENES)
        for j, (start, text) in enumerate(NARRATION):
            wav = work / f"line{j}.wav"
            wav.write_bytes(tts.synthesize(text, voice="en-us", rate=0.95).audio)
            inputs += ["-i", str(wav)]
            filters.append(f"[{video_inputs + j}:a]aresample=48000,adelay={int(start * 1000)}:all=1[a{j}]")
        filters.append("".join(f"[v{i}]" for i in range(len(SCENES))) + f"concat=n={len(SCENES)}:v=1:a=0[v]")
        filters.append("".join(f"[a{j}]" for j in range(len(NARRATION))) +
                       f"amix=inputs={len(NARRATION)}:normalize=0,apad,atrim=0:{total}[a]")
        run([*inputs, "-filter_complex", ";".join(filters), "-map", "[v]", "-map", "[a]", "-c:v", "libx264",
             "-preset", "medium", "-crf", "30", "-g", "48", "-c:a", "aac", "-b:a", "64k", "-ac", "1",
             "-movflags", "+faststart", "-t", str(total), "-y", str(out)])


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "shared/avp/demo_media/sample.mp4"
    make(target)
    print(f"wrote {target} ({target.stat().st_size} bytes)")
