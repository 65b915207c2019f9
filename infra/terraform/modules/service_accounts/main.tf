# One identity per kind of workload, each with only the roles its code uses. Roles on single
# resources (the bucket, the secret, the media job, each function) are granted where those
# resources are made; what is left here is what only exists at project level.
locals {
  accounts = {
    functions = {
      account_id   = "avp-functions"
      display_name = "avp Cloud Functions (API route groups and ingest)"
      # Firestore reads/writes; starting and cancelling pipeline executions.
      roles = ["roles/datastore.user", "roles/workflows.invoker"]
    }
    media_job = {
      account_id   = "avp-media-job"
      display_name = "avp media steps (Cloud Run Job avp-media)"
      # Video Intelligence and Cloud TTS need no role beyond an enabled API.
      roles = ["roles/datastore.user"]
    }
    workflows = {
      account_id   = "avp-workflows"
      display_name = "avp pipeline workflows"
      # Firestore connector (job status on failure), sys.log, and polling the job execution's
      # long-running operation (run.operations.get exists only at project level).
      roles = ["roles/datastore.user", "roles/logging.logWriter", "roles/run.viewer"]
    }
    gateway = {
      account_id   = "avp-gateway"
      display_name = "avp API Gateway backend identity"
      roles        = [] # run.invoker on each function, granted by cloudbuild.yaml after deploy
    }
    events = {
      account_id   = "avp-events"
      display_name = "avp Eventarc trigger of the ingest function"
      roles        = ["roles/eventarc.eventReceiver"]
    }
  }

  project_roles = merge([
    for key, account in local.accounts : {
      for role in account.roles : "${key}:${role}" => { account = key, role = role }
    }
  ]...)

  # What the deployer (Cloud Build's service account) needs to ship code into this project.
  deployer_roles = [
    # Runs the build itself and the functions' own image builds (--build-service-account): build
    # logs, source and image storage. Broad; that is why the deployer is its own account.
    "roles/cloudbuild.builds.builder",
    "roles/cloudfunctions.developer",
    "roles/run.developer",
    "roles/workflows.editor",
    "roles/apigateway.admin",
    "roles/artifactregistry.writer",
    # `avp migrate` after the functions are deployed (cloudbuild.yaml, step migrate).
    "roles/datastore.user",
  ]
}

resource "google_service_account" "this" {
  for_each     = local.accounts
  project      = var.project_id
  account_id   = each.value.account_id
  display_name = each.value.display_name
}

resource "google_project_iam_member" "project" {
  for_each = local.project_roles
  project  = var.project_id
  role     = each.value.role
  member   = google_service_account.this[each.value.account].member
}

# Signed URLs and Firebase custom tokens are signed with the workload's own identity through IAM
# signBlob (avp.storage.IamSigner): no key file exists anywhere. The functions sign upload,
# download and share links; the media job signs the link of a bulk-download ZIP it built.
resource "google_service_account_iam_member" "sign_as_self" {
  for_each           = toset(["functions", "media_job"])
  service_account_id = google_service_account.this[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.this[each.key].member
}

moved {
  from = google_service_account_iam_member.functions_sign_as_self
  to   = google_service_account_iam_member.sign_as_self["functions"]
}

# Cloud Storage publishes object events through Pub/Sub for the Eventarc trigger.
data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

resource "google_project_iam_member" "gcs_publishes_events" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = data.google_storage_project_service_account.gcs.member
}

resource "google_project_iam_member" "deployer" {
  for_each = var.deployer_member == null ? toset([]) : toset(local.deployer_roles)
  project  = var.project_id
  role     = each.value
  member   = var.deployer_member
}

# Deploying a function, job or workflow that runs as one of these accounts needs actAs on it.
resource "google_service_account_iam_member" "deployer_acts_as" {
  for_each           = var.deployer_member == null ? {} : { for k in ["functions", "media_job", "workflows", "events", "gateway"] : k => k }
  service_account_id = google_service_account.this[each.key].name
  role               = "roles/iam.serviceAccountUser"
  member             = var.deployer_member
}
