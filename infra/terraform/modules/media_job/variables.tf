variable "project_id" {
  description = "Project of the job."
  type        = string
}

variable "region" {
  description = "Region of the job and of the image repository."
  type        = string
}

variable "repository_id" {
  description = "Artifact Registry repository id (cloudbuild.yaml _AR_REPOSITORY)."
  type        = string
  default     = "avp"
}

variable "service_account_email" {
  description = "Identity the steps run as."
  type        = string
}

variable "image" {
  description = "Image of the first revision; later images come from cloudbuild.yaml and are ignored here."
  type        = string
  default     = "us-docker.pkg.dev/cloudrun/container/job:latest"
}

variable "cpu" {
  description = "CPU limit of a step (ffmpeg and Whisper use every core they get)."
  type        = string
  default     = "4"
}

variable "memory" {
  description = "Memory limit of a step."
  type        = string
  default     = "8Gi"
}

variable "task_timeout_seconds" {
  description = "Longest a single step may run."
  type        = number
  default     = 3600
}

variable "env" {
  description = "Environment of every step (see shared/avp/config.py)."
  type        = map(string)
  default     = {}
}

variable "secret_env" {
  description = "Environment variable => Secret Manager secret id (latest version), for keys such as GEMINI_API_KEY."
  type        = map(string)
  default     = {}
}

variable "runners" {
  description = "Members that execute the job with overrides, keyed by a static name."
  type        = map(string)
  default     = {}
}

variable "deletion_protection" {
  description = "Refuse to delete the job."
  type        = bool
  default     = true
}
