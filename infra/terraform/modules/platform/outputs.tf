output "bucket_name" {
  description = "Media bucket (AVP_BUCKET, cloudbuild.yaml _BUCKET)."
  value       = module.storage.bucket_name
}

output "service_accounts" {
  description = "Service account emails by role."
  value       = module.service_accounts.emails
}

output "image_repository" {
  description = "Where cloudbuild.yaml pushes the avp-media image."
  value       = module.media_job.repository_url
}

output "media_job" {
  description = "Name of the Cloud Run Job."
  value       = module.media_job.job_name
}

output "workflows" {
  description = "Names of the workflows."
  value       = module.workflows.names
}

output "jwt_secret" {
  description = "Secret id of the JWT signing key (AVP_JWT_KEY)."
  value       = module.secrets.secret_id
}

output "firestore_database" {
  description = "Firestore database name."
  value       = module.firestore.database_name
}

output "runtime_config_secret" {
  description = "Secret id of the runtime config cloudbuild.yaml deploys the functions with."
  value       = google_secret_manager_secret.runtime_config.secret_id
}

output "console_bucket" {
  description = "Bucket of the web console (cloudbuild.yaml _CONSOLE_BUCKET)."
  value       = google_storage_bucket.console.name
}
