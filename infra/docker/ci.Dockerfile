# syntax=docker/dockerfile:1
# The image Cloud Build runs the whole test suite in before a deploy (cloudbuild.yaml, steps
# build-test-image and test), and stages the functions with: Python 3.11 as in production, Java
# and the Firestore emulator (the Google Cloud CLI's Debian packages, as scripts/setup expects
# them), Node.js and Chromium for the web console's browser tests, and avp's locked
# dependencies — ffmpeg among them, the build inside the imageio-ffmpeg wheel, the same one the
# media job runs. The repository itself is the build's /workspace.
#   DOCKER_BUILDKIT=1 docker build -f infra/docker/ci.Dockerfile -t avp-ci .
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends default-jre-headless curl gnupg ca-certificates chromium nodejs npm \
 && curl -fsSL https://packages.cloud.google.com/apt/doc/apt-key.gpg | gpg --dearmor -o /usr/share/keyrings/cloud.google.gpg \
 && echo "deb [signed-by=/usr/share/keyrings/cloud.google.gpg] https://packages.cloud.google.com/apt cloud-sdk main" \
      > /etc/apt/sources.list.d/google-cloud-sdk.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends google-cloud-cli google-cloud-cli-firestore-emulator \
 && rm -rf /var/lib/apt/lists/*
# The locked dependencies only (scripts/lock.py), hash-checked: the test step installs the
# checked-out project itself with --no-deps --no-build-isolation.
COPY requirements-dev.lock /src/
RUN pip install --require-hashes --no-deps -r /src/requirements-dev.lock && pip check
WORKDIR /workspace
