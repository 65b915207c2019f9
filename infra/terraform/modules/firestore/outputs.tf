output "database_name" {
  description = "Name of the Firestore database."
  value       = google_firestore_database.main.name
}

output "index_count" {
  description = "Composite indexes managed from the indexes file."
  value       = length(google_firestore_index.composite)
}

output "rules_release" {
  description = "Name of the rules release."
  value       = google_firebaserules_release.firestore.name
}
