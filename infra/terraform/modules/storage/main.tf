# The media bucket: uploads arrive here straight from browsers (signed resumable sessions),
# steps write deliverables here. Private, uniform access, no public objects ever.
resource "google_storage_bucket" "media" {
  project                     = var.project_id
  name                        = var.name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  versioning {
    enabled = var.versioning
  }

  # A browser PUTs chunks to the session URI and must read the headers that say how far the
  # upload got (Range, x-goog-upload-status) to resume after a dropped connection.
  cors {
    origin          = var.cors_origins
    method          = ["GET", "HEAD", "PUT", "POST", "OPTIONS"]
    response_header = ["Content-Type", "Content-Length", "Content-Range", "Range", "Location", "ETag", "x-goog-resumable", "x-goog-upload-status", "x-goog-generation"]
    max_age_seconds = 3600
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # Steps write under a temporary name and move into place when whole; a crashed step leaves
  # its temporary object behind.
  dynamic "lifecycle_rule" {
    for_each = length(var.temporary_prefixes) > 0 ? [1] : []
    content {
      condition {
        age            = var.temporary_max_age_days
        matches_prefix = var.temporary_prefixes
      }
      action {
        type = "Delete"
      }
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.versioning ? [1] : []
    content {
      condition {
        days_since_noncurrent_time = var.noncurrent_max_age_days
      }
      action {
        type = "Delete"
      }
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.nearline_after_days == null ? [] : [1]
    content {
      condition {
        age = var.nearline_after_days
      }
      action {
        type          = "SetStorageClass"
        storage_class = "NEARLINE"
      }
    }
  }

  labels = var.labels
}

resource "google_storage_bucket_iam_member" "object_admin" {
  for_each = var.object_admins
  bucket   = google_storage_bucket.media.name
  role     = "roles/storage.objectAdmin"
  member   = each.value
}
