output "emails" {
  description = "Service account emails by role: functions, media_job, workflows, gateway, events."
  value       = { for key, sa in google_service_account.this : key => sa.email }
}

output "members" {
  description = "IAM member strings (serviceAccount:...) by role."
  value       = { for key, sa in google_service_account.this : key => sa.member }
}
