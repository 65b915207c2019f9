output "bucket_name" {
  description = "Media bucket: cloudbuild.yaml _BUCKET."
  value       = module.avp.bucket_name
}

output "image_repository" {
  description = "Where cloudbuild.yaml pushes the avp-media image."
  value       = module.avp.image_repository
}

output "service_accounts" {
  description = "Service account emails by role."
  value       = module.avp.service_accounts
}

output "media_job" {
  description = "Cloud Run Job name."
  value       = module.avp.media_job
}

output "workflows" {
  description = "Workflow names."
  value       = module.avp.workflows
}

output "jwt_secret" {
  description = "Secret id of the JWT signing key."
  value       = module.avp.jwt_secret
}
