# The Cloud Run Job every media step runs in (`avp-media STEP --job-id ID`), and the registry
# its image lives in. Terraform creates the job; cloudbuild.yaml ships new images into it.
resource "google_artifact_registry_repository" "images" {
  project       = var.project_id
  location      = var.region
  repository_id = var.repository_id
  format        = "DOCKER"
  description   = "avp container images"
}

resource "google_cloud_run_v2_job" "media" {
  project             = var.project_id
  location            = var.region
  name                = "avp-media" # the workflows call projects/P/locations/R/jobs/avp-media
  deletion_protection = var.deletion_protection

  template {
    task_count = 1

    template {
      service_account = var.service_account_email
      timeout         = "${var.task_timeout_seconds}s"
      # The workflow retries with backoff and knows a permanent failure (exit 3) from a
      # transient one; a retry here as well would run a failed step twice per attempt.
      max_retries = 0

      containers {
        image = var.image

        resources {
          limits = {
            cpu    = var.cpu
            memory = var.memory
          }
        }

        dynamic "env" {
          for_each = var.env
          content {
            name  = env.key
            value = env.value
          }
        }

        dynamic "env" {
          for_each = var.secret_env
          content {
            name = env.key
            value_source {
              secret_key_ref {
                secret  = env.value
                version = "latest"
              }
            }
          }
        }
      }
    }
  }

  lifecycle {
    ignore_changes = [
      template[0].template[0].containers[0].image,
      client,
      client_version,
    ]
  }
}

# Workflows runs the job with per-execution container overrides (the step and job id), which
# takes run.jobs.runWithOverrides: Cloud Run Developer, on this job only.
resource "google_cloud_run_v2_job_iam_member" "runner" {
  for_each = var.runners
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.media.name
  role     = "roles/run.developer"
  member   = each.value
}
