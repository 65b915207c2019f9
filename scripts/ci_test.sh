#!/usr/bin/env bash
# The whole suite as Cloud Build runs it before any deploy, inside the image built from
# infra/docker/ci.Dockerfile (Java, the Firestore emulator, the locked dependencies, ffmpeg from
# the imageio-ffmpeg wheel): every kind of test, nothing skipped for want of media (tests/data).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --no-deps --no-build-isolation -e .
python - <<'PY'
import sys
from avp.local.emulators import check_prerequisites
missing = check_prerequisites()
if missing:
    sys.exit("the test image misses:\n- " + "\n- ".join(missing))
PY
# The web console the browser tests drive (the image brings Node.js and Debian's Chromium).
(cd console && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
exec python -m pytest -q -p no:cacheprovider tests/unit tests/contract tests/integration tests/security tests/e2e tests/browser tests/fuzz
