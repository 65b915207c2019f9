variable "project_id" {
  description = "Project that owns the bucket."
  type        = string
}

variable "name" {
  description = "Globally unique bucket name (AVP_BUCKET)."
  type        = string
}

variable "location" {
  description = "Bucket location; keep it the functions' region so the ingest trigger can watch it."
  type        = string
}

variable "cors_origins" {
  description = "Browser origins allowed to upload and download directly."
  type        = list(string)
}

variable "object_admins" {
  description = "Members that read and write objects, keyed by a static name (for example functions, media_job)."
  type        = map(string)
  default     = {}
}

variable "versioning" {
  description = "Keep overwritten and deleted objects as noncurrent versions."
  type        = bool
  default     = false
}

variable "noncurrent_max_age_days" {
  description = "Days a noncurrent version is kept (with versioning)."
  type        = number
  default     = 30
}

variable "temporary_prefixes" {
  description = "Prefixes of temporary objects that are deleted after temporary_max_age_days."
  type        = list(string)
  default     = ["tmp/"]
}

variable "temporary_max_age_days" {
  description = "Age in days after which temporary objects are deleted."
  type        = number
  default     = 1
}

variable "nearline_after_days" {
  description = "Move objects to Nearline after this many days; null keeps everything in Standard."
  type        = number
  default     = null
}

variable "force_destroy" {
  description = "Allow destroying the bucket with objects in it (never in prod)."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels for the bucket."
  type        = map(string)
  default     = {}
}
