"""VideoIntelligenceTranscriber against a local fake of the Video Intelligence REST API."""
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import videointelligence

from avp.providers.asr.base import NO_SPEECH, AsrError
from avp.providers.asr.video_intelligence import VideoIntelligenceTranscriber
from tests.contract.fake_http import Reply, replies

OPERATION = "projects/p/locations/us-east1/operations/42"
RESPONSE_TYPE = "type.googleapis.com/google.cloud.videointelligence.v1.AnnotateVideoResponse"


def _error(status: int, grpc_status: str) -> Reply:
    return Reply(status, {"error": {"code": status, "message": f"fake {grpc_status}", "status": grpc_status}})


def _done(results: list[dict]) -> Reply:
    return Reply(200, {"name": OPERATION, "done": True, "response": {"@type": RESPONSE_TYPE, "annotationResults": results}})


def _word(word: str, start: str, end: str, **extra: object) -> dict:
    return {"word": word, "startTime": start, "endTime": end, **extra}


SPOKEN = [{
    "inputUri": "/bucket/video.mp4",
    "segment": {"startTimeOffset": "0s", "endTimeOffset": "42.400s"},
    "speechTranscriptions": [
        {"alternatives": [{"transcript": "Hello there.", "confidence": 0.91,
                           "words": [_word("Hello", "0.200s", "0.600s", confidence=0.95), _word("there.", "0.700s", "1.100s")]}],
         "languageCode": "en-us"},
        {"alternatives": [{"transcript": "Banana.", "confidence": 0.8, "words": [_word("Banana.", "39.900s", "40.400s")]}]},
        # Diarization repeats every word with its speaker tag in a last transcription.
        {"alternatives": [{"words": [_word("Hello", "0.200s", "0.600s", speakerTag=1), _word("there.", "0.700s", "1.100s", speakerTag=1),
                                     _word("Banana.", "39.900s", "40.400s", speakerTag=2)]}]},
    ],
}]


def _transcriber(fake, **options) -> VideoIntelligenceTranscriber:
    client = videointelligence.VideoIntelligenceServiceClient(
        transport="rest", credentials=AnonymousCredentials(), client_options={"api_endpoint": fake.url})
    options = {"poll_interval": 0.02, "sleep": lambda _: None, **options}
    return VideoIntelligenceTranscriber(client, **options)


def test_request_shape_and_response_parsing(fake):
    fake.on("POST", "/v1/videos:annotate", replies(Reply(200, {"name": OPERATION})))
    fake.on("GET", f"/v1/{OPERATION}", replies(Reply(200, {"name": OPERATION, "done": False}), _done(SPOKEN)))
    transcript = _transcriber(fake, diarize=True).transcribe_uri("gs://bucket/video.mp4", language="en-US")

    start = fake.requests[0]
    assert start.method == "POST" and start.path.startswith("/v1/videos:annotate")
    assert start.body["inputUri"] == "gs://bucket/video.mp4"
    assert start.body["features"] == [videointelligence.Feature.SPEECH_TRANSCRIPTION.value]
    config = start.body["videoContext"]["speechTranscriptionConfig"]
    assert config == {"languageCode": "en-US", "enableAutomaticPunctuation": True,
                      "enableWordConfidence": True, "enableSpeakerDiarization": True}
    assert [r.method for r in fake.requests[1:]] == ["GET", "GET"]   # polled until done

    assert [(w.text, w.start, w.end, w.speaker) for w in transcript.words] == [
        ("Hello", 0.2, 0.6, "1"), ("there.", 0.7, 1.1, "1"), ("Banana.", 39.9, 40.4, "2")]
    assert transcript.words[1].confidence == pytest.approx(0.91)
    assert (transcript.language, transcript.duration, transcript.provider) == ("en-US", 42.4, "video-intelligence")
    assert transcript.notes == []


def test_no_speech_and_default_language(fake):
    fake.on("POST", "/v1/videos:annotate", replies(Reply(200, {"name": OPERATION})))
    fake.on("GET", f"/v1/{OPERATION}", replies(_done([{"segment": {"endTimeOffset": "5s"}}])))
    transcript = _transcriber(fake).transcribe_uri("gs://bucket/silence.mp4")
    assert fake.requests[0].body["videoContext"]["speechTranscriptionConfig"]["languageCode"] == "en-US"
    assert transcript.words == [] and NO_SPEECH in transcript.notes and transcript.duration == 5.0


@pytest.mark.parametrize("status, grpc_status", [(400, "INVALID_ARGUMENT"), (403, "PERMISSION_DENIED"), (404, "NOT_FOUND")])
def test_client_errors_are_permanent_and_not_retried(fake, status, grpc_status):
    fake.on("POST", "/v1/videos:annotate", replies(_error(status, grpc_status)))
    with pytest.raises(AsrError) as caught:
        _transcriber(fake).transcribe_uri("gs://bucket/video.mp4", language="en-US")
    assert caught.value.permanent and str(status) in str(caught.value)
    assert len(fake.requests) == 1


def test_server_errors_and_rate_limits_are_retried(fake):
    waits: list[float] = []
    fake.on("POST", "/v1/videos:annotate",
            replies(_error(503, "UNAVAILABLE"), _error(429, "RESOURCE_EXHAUSTED"), Reply(200, {"name": OPERATION})))
    fake.on("GET", f"/v1/{OPERATION}", replies(_done(SPOKEN)))
    transcript = _transcriber(fake, backoff=0.5, sleep=waits.append).transcribe_uri("gs://bucket/v.mp4", language="en-US")
    assert len(transcript.words) == 3
    assert waits == [0.5, 1.0]


def test_persistent_server_error_is_transient(fake):
    fake.on("POST", "/v1/videos:annotate", replies(_error(500, "INTERNAL")))
    with pytest.raises(AsrError) as caught:
        _transcriber(fake, attempts=2).transcribe_uri("gs://bucket/video.mp4", language="en-US")
    assert not caught.value.permanent
    assert len(fake.requests) == 2


def test_failed_operation_maps_its_status(fake):
    fake.on("POST", "/v1/videos:annotate", replies(Reply(200, {"name": OPERATION})))
    fake.on("GET", f"/v1/{OPERATION}", replies(
        Reply(200, {"name": OPERATION, "done": True, "error": {"code": 3, "message": "unsupported media"}})))
    with pytest.raises(AsrError, match="unsupported media") as caught:
        _transcriber(fake).transcribe_uri("gs://bucket/video.mp4", language="en-US")
    assert caught.value.permanent


def test_operation_that_never_finishes_times_out(fake):
    fake.on("POST", "/v1/videos:annotate", replies(Reply(200, {"name": OPERATION})))
    fake.on("GET", f"/v1/{OPERATION}", replies(Reply(200, {"name": OPERATION, "done": False})))
    with pytest.raises(AsrError, match="did not finish") as caught:
        _transcriber(fake, timeout=0.3).transcribe_uri("gs://bucket/video.mp4", language="en-US")
    assert not caught.value.permanent


def test_local_files_are_staged_to_cloud_storage_first(fake):
    fake.on("POST", "/v1/videos:annotate", replies(Reply(200, {"name": OPERATION})))
    fake.on("GET", f"/v1/{OPERATION}", replies(_done(SPOKEN)))
    staged: list[Path] = []

    def stage(path: Path) -> str:
        staged.append(path)
        return f"gs://bucket/staged/{path.name}"

    _transcriber(fake, stage_audio=stage).transcribe(Path("/tmp/audio.wav"), language="en-US")
    assert staged == [Path("/tmp/audio.wav")]
    assert fake.requests[0].body["inputUri"] == "gs://bucket/staged/audio.wav"
    with pytest.raises(AsrError, match="gs://") as caught:
        _transcriber(fake).transcribe(Path("/tmp/audio.wav"))
    assert caught.value.permanent
