# prod: the cloud providers, protected data, versioned media.
module "avp" {
  source             = "../../modules/platform"
  project_id         = var.project_id
  region             = var.region
  firestore_location = var.firestore_location
  bucket_name        = var.bucket_name
  cors_origins       = var.cors_origins
  public_url         = var.public_url
  deployer_member    = var.deployer_member

  gemini_api_key_secret = var.gemini_api_key_secret

  media_providers = {
    asr       = "video-intelligence"
    describe  = "gemini"
    tts       = "google"
    translate = "gemini"
  }

  media_job_cpu       = "4"
  media_job_memory    = "8Gi"
  bucket_versioning   = true
  deletion_protection = true
  labels              = { app = "avp", env = "prod" }
}
