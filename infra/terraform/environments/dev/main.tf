# dev: cheap and disposable. The steps use the offline providers (Whisper, local describer,
# eSpeak NG) that say in their output that they are drafts, so a dev run costs no AI calls.
module "avp" {
  source             = "../../modules/platform"
  project_id         = var.project_id
  region             = var.region
  firestore_location = var.region
  bucket_name        = var.bucket_name
  cors_origins       = var.cors_origins
  public_url         = var.public_url
  deployer_member    = var.deployer_member

  media_providers = {
    asr       = "local"
    describe  = "local"
    tts       = "local"
    translate = "none"
  }

  media_job_cpu       = "2"
  media_job_memory    = "4Gi"
  deletion_protection = false
  log_level           = "DEBUG"
  labels              = { app = "avp", env = "dev" }
}
