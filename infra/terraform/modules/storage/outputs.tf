output "bucket_name" {
  description = "Name of the media bucket."
  value       = google_storage_bucket.media.name
}

output "bucket_url" {
  description = "gs:// URL of the media bucket."
  value       = google_storage_bucket.media.url
}
