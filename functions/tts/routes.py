from flask import Blueprint, Response, request

from avp.bootstrap import container
from avp.domain.uploads import STYLE_PRESETS
from avp.errors import NotFound, ServiceUnavailable, Unprocessable
from avp.providers import offer
from avp.providers.tts import TtsError
from avp.web import authenticated, current_user, json_body, ok, query_args, sibling

schemas = sibling(__file__, "schemas")
catalog = sibling(__file__, "catalog")
preview = sibling(__file__, "preview")
bp = Blueprint("tts", __name__, url_prefix="/api/v1/tts")


@bp.get("/voices")
@authenticated()
def voices():
    q = query_args(schemas.VoiceQuery())
    return ok({"items": catalog.voices(container().settings, q["provider"], q["language"])})


@bp.get("/languages")
@authenticated()
def languages():
    return ok({"items": catalog.languages(container().settings)})


@bp.get("/options")
@authenticated()
def options():
    s = container().settings
    default = catalog.BY_ID.get(offer.tts_id(s.tts_provider), catalog.PROVIDERS[0])
    return ok({"providers": catalog.options(s),
               "default": {"provider": default.id, "model": default.models[0][0], "default_voice": default.default_voice},
               "asr_providers": [p for p in offer.ASR_IDS if offer.asr_unavailable(p, s) is None],
               "style_presets": list(STYLE_PRESETS)})


def _format(asked: str | None) -> str:
    if asked:
        return asked
    best = request.accept_mimetypes.best_match(["audio/mpeg", "audio/wav"], default="audio/mpeg")
    return "wav" if best == "audio/wav" else "mp3"


@bp.post("/preview")
@authenticated()
def synthesize_preview():
    body = json_body(schemas.PreviewRequest())
    c = container()
    preview.take_token(c.store, current_user().user_id)
    tts = catalog.provider(body["provider"] or c.settings.tts_provider, c.settings)
    voice = catalog.find_voice(tts, body["voice"])
    if voice is None:
        raise NotFound(f"no voice {body['voice']!r} for provider {tts.name}")
    if not catalog.speaks(voice, body["language"]):
        raise Unprocessable({"language": [f"voice {voice.id} speaks {', '.join(catalog.voice_languages(voice)[:5])}, "
                                          f"not {body['language']}"]})
    try:
        audio = preview.render(c.data_dir / "tts-preview", tts, body["text"], voice=voice.id, rate=body["rate"],
                               fmt=_format(body["format"]))
    except TtsError as exc:
        raise ServiceUnavailable(f"speech synthesis failed: {exc}") from exc
    resp = Response(audio.data, mimetype=audio.media_type)
    resp.headers["X-Audio-Duration"] = f"{audio.duration:.3f}"
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp
