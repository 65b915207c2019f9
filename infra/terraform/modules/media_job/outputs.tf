output "job_name" {
  description = "Name of the Cloud Run Job."
  value       = google_cloud_run_v2_job.media.name
}

output "repository_url" {
  description = "Docker repository URL images are pushed to."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}
