#!/usr/bin/env bash
# Delete old API Gateway configs: every build creates one and API Gateway allows 100 per API
# (https://cloud.google.com/api-gateway/docs/quotas). Keeps the newest KEEP and, whatever its
# age, the config the gateway serves (after a rollback it may be an old one).
#
#   scripts/prune_api_configs.sh API_ID GATEWAY_ID KEEP      (PROJECT_ID and REGION from the environment)
set -euo pipefail
api="$1" gateway="$2" keep="$3"
: "${PROJECT_ID:?}" "${REGION:?}"
active="$(gcloud api-gateway gateways describe "$gateway" --location="$REGION" --project="$PROJECT_ID" --format='value(apiConfig)')"
active="${active##*/}"
if [ -z "$active" ]; then
  echo "gateway $gateway serves no config: nothing pruned" >&2
  exit 0
fi
n=0
while read -r name; do
  [ -n "$name" ] || continue
  id="${name##*/}"
  n=$((n + 1))
  if [ "$n" -le "$keep" ] || [ "$id" = "$active" ]; then
    continue
  fi
  # A config still used by another gateway cannot go: say so and carry on.
  gcloud api-gateway api-configs delete "$id" --api="$api" --project="$PROJECT_ID" --quiet \
    || echo "could not delete API config $id; left in place" >&2
done < <(gcloud api-gateway api-configs list --api="$api" --project="$PROJECT_ID" --sort-by=~createTime --format='value(name)')
