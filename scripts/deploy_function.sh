#!/usr/bin/env bash
# Deploy one avp Cloud Function (2nd gen), the same way for every route group; cloudbuild.yaml
# calls it once per function with what differs between them:
#
#   scripts/deploy_function.sh GROUP MEMORY TIMEOUT
#
# GROUP is the folder under functions/ (staged in .deploy/functions/GROUP by the step
# stage-functions); `ingest` gets the Cloud Storage finalize trigger, every other group an HTTP
# trigger that only the gateway may invoke. Environment, secret mounts, the bucket and the
# build identity come from .deploy/functions/deploy.env, which stage-functions writes from the
# runtime config Terraform keeps (Secret Manager avp-runtime-config): nothing is set here.
# Needs PROJECT_ID and REGION in the environment.
set -euo pipefail
group="$1" memory="$2" timeout="$3"
: "${PROJECT_ID:?}" "${REGION:?}"
staged=".deploy/functions"
[ -d "$staged/$group" ] || { echo "no staged source at $staged/$group" >&2; exit 2; }
# shellcheck source=/dev/null
source "$staged/deploy.env"   # FUNCTION_SECRETS, BUCKET, BUILD_SERVICE_ACCOUNT

args=(functions deploy "avp-${group//_/-}" --gen2 --runtime=python311 --region="$REGION" --project="$PROJECT_ID"
      --source="$staged/$group" --entry-point="$group" --no-allow-unauthenticated
      --service-account="avp-functions@$PROJECT_ID.iam.gserviceaccount.com"
      --env-vars-file="$staged/env.yaml" --set-secrets="$FUNCTION_SECRETS"
      --memory="$memory" --timeout="$timeout" --quiet)
if [ -n "$BUILD_SERVICE_ACCOUNT" ]; then
  args+=(--build-service-account="$BUILD_SERVICE_ACCOUNT")
fi
if [ "$group" = ingest ]; then
  args+=(--trigger-event-filters=type=google.cloud.storage.object.v1.finalized
         --trigger-event-filters="bucket=$BUCKET" --trigger-location="$REGION"
         --trigger-service-account="avp-events@$PROJECT_ID.iam.gserviceaccount.com")
else
  args+=(--trigger-http)
fi
exec gcloud "${args[@]}"
