output "secret_id" {
  description = "Secret id of the JWT key."
  value       = google_secret_manager_secret.jwt_key.secret_id
}

output "secret_name" {
  description = "Full resource name of the JWT key secret."
  value       = google_secret_manager_secret.jwt_key.name
}
