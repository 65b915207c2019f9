variable "project_id" {
  description = "Project of the Firestore database."
  type        = string
}

variable "location" {
  description = "Firestore location (a region such as europe-west1, or a multi-region such as eur3)."
  type        = string
}

variable "indexes_file" {
  description = "Path of firestore.indexes.json (Firebase CLI format: indexes and fieldOverrides)."
  type        = string
}

variable "rules_file" {
  description = "Path of firestore.rules."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete the database (and abandon it on terraform destroy)."
  type        = bool
  default     = true
}
