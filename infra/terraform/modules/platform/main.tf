# Everything one avp environment needs before cloudbuild.yaml can ship code into it.
# environments/dev and environments/prod each call this module with their own settings.
locals {
  jwt_secret_id = "avp-jwt-key" # cloudbuild.yaml _FUNCTION_SECRETS mounts it as AVP_JWT_KEY
  infra_dir     = "${path.module}/../../.."
  workflows_dir = "${path.module}/../../../../workflows"

  services = [
    "apigateway.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "eventarc.googleapis.com",
    "firebaserules.googleapis.com",
    "firestore.googleapis.com",
    "generativelanguage.googleapis.com",
    "iamcredentials.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicecontrol.googleapis.com",
    "servicemanagement.googleapis.com",
    "texttospeech.googleapis.com",
    "videointelligence.googleapis.com",
    "workflowexecutions.googleapis.com",
    "workflows.googleapis.com",
  ]

  # The one place that holds runtime settings: the media steps get exactly this environment, the
  # functions this plus their secrets, through the runtime config below (shared/avp/config.py
  # lists every variable). Providers are Terraform variables, nowhere else.
  runtime_env = merge({
    AVP_ENV                = "cloud"
    GOOGLE_CLOUD_PROJECT   = var.project_id
    AVP_REGION             = var.region
    AVP_BUCKET             = module.storage.bucket_name
    AVP_PUBLIC_URL         = var.public_url
    AVP_DATA_DIR           = "/tmp/avp"
    AVP_ASR_PROVIDER       = var.media_providers.asr
    AVP_DESCRIBE_PROVIDER  = var.media_providers.describe
    AVP_TTS_PROVIDER       = var.media_providers.tts
    AVP_TRANSLATE_PROVIDER = var.media_providers.translate
    AVP_LOG_LEVEL          = var.log_level
  }, var.extra_env)

  gemini_env = var.gemini_api_key_secret == null ? {} : { GEMINI_API_KEY = var.gemini_api_key_secret }

  # What cloudbuild.yaml reads (Secret Manager `avp-runtime-config`, availableSecrets) to deploy the
  # functions: their environment, their secret mounts (`--set-secrets`) and the bucket the ingest
  # trigger watches. Not secret itself; Secret Manager is simply what a build reads natively, with
  # access granted per secret.
  runtime_config_id = "avp-runtime-config"
  runtime_config = {
    env     = local.runtime_env
    secrets = merge({ AVP_JWT_KEY = local.jwt_secret_id }, local.gemini_env)
    bucket  = module.storage.bucket_name
    # The functions' own image builds run as the deployer (gcloud --build-service-account).
    build_service_account = var.deployer_member == null ? "" : "projects/${var.project_id}/serviceAccounts/${trimprefix(var.deployer_member, "serviceAccount:")}"
  }

  # The Gemini providers read GEMINI_API_KEY (shared/avp/config.py). Its secret is made out of
  # band (`gcloud secrets create` + `versions add`) so the key never passes through Terraform.
  gemini_readers = var.gemini_api_key_secret == null ? {} : {
    gemini_functions = { secret_id = var.gemini_api_key_secret, member = module.service_accounts.members["functions"] }
    gemini_media_job = { secret_id = var.gemini_api_key_secret, member = module.service_accounts.members["media_job"] }
  }
}

resource "google_project_service" "this" {
  for_each           = toset(local.services)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "service_accounts" {
  source          = "../service_accounts"
  project_id      = var.project_id
  deployer_member = var.deployer_member
  # No depends_on here: it would defer the module's data source to apply time and make its
  # IAM member look new on every plan. The IAM and Storage APIs are on in every project.
}

module "storage" {
  source        = "../storage"
  project_id    = var.project_id
  name          = var.bucket_name
  location      = var.region
  cors_origins  = var.cors_origins
  versioning    = var.bucket_versioning
  force_destroy = !var.deletion_protection
  labels        = var.labels
  object_admins = {
    functions = module.service_accounts.members["functions"]
    media_job = module.service_accounts.members["media_job"]
  }
}

module "firestore" {
  source              = "../firestore"
  project_id          = var.project_id
  location            = var.firestore_location
  indexes_file        = "${local.infra_dir}/firestore.indexes.json"
  rules_file          = "${local.infra_dir}/firestore.rules"
  deletion_protection = var.deletion_protection

  depends_on = [google_project_service.this]
}

module "secrets" {
  source     = "../secrets"
  project_id = var.project_id
  secret_id  = local.jwt_secret_id
  labels     = var.labels
  read_access = merge({
    jwt_functions = { secret_id = local.jwt_secret_id, member = module.service_accounts.members["functions"] }
  }, local.gemini_readers)

  depends_on = [google_project_service.this]
}

module "media_job" {
  source                = "../media_job"
  project_id            = var.project_id
  region                = var.region
  service_account_email = module.service_accounts.emails["media_job"]
  cpu                   = var.media_job_cpu
  memory                = var.media_job_memory
  env                   = local.runtime_env
  secret_env            = local.gemini_env
  deletion_protection   = var.deletion_protection
  runners = {
    workflows = module.service_accounts.members["workflows"]
  }

  depends_on = [google_project_service.this]
}

module "workflows" {
  source                = "../workflows"
  project_id            = var.project_id
  region                = var.region
  service_account_email = module.service_accounts.emails["workflows"]
  workflows = {
    avp-pipeline  = "${local.workflows_dir}/pipeline.workflows.yaml"
    avp-languages = "${local.workflows_dir}/languages.workflows.yaml"
    avp-bundle    = "${local.workflows_dir}/bundle.workflows.yaml"
  }

  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret" "runtime_config" {
  project   = var.project_id
  secret_id = local.runtime_config_id
  labels    = var.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret_version" "runtime_config" {
  secret      = google_secret_manager_secret.runtime_config.id
  secret_data = jsonencode(local.runtime_config)
}

resource "google_secret_manager_secret_iam_member" "deployer_reads_runtime_config" {
  count     = var.deployer_member == null ? 0 : 1
  project   = var.project_id
  secret_id = google_secret_manager_secret.runtime_config.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = var.deployer_member
}

# The web console: a static site (console/dist, uploaded by cloudbuild.yaml step deploy-console)
# and its one configuration file, written here from the same settings as the API
# (docs/decisions/0007-web-console-plain-modules.md).
resource "google_storage_bucket" "console" {
  project                     = var.project_id
  name                        = coalesce(var.console_bucket_name, "${var.project_id}-avp-console")
  location                    = var.region
  uniform_bucket_level_access = true
  force_destroy               = !var.deletion_protection
  labels                      = var.labels

  website {
    main_page_suffix = "index.html"
  }
}

resource "google_storage_bucket_iam_member" "console_public" {
  bucket = google_storage_bucket.console.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_storage_bucket_object" "console_config" {
  bucket        = google_storage_bucket.console.name
  name          = "console/config.json"
  content_type  = "application/json"
  cache_control = "no-store"
  content = jsonencode({
    api_base_url = var.public_url
    firebase     = { projectId = var.project_id, apiKey = var.firebase_api_key }
    microsoft    = null
  })
}
