variable "project_id" {
  description = "Project of the workflows."
  type        = string
}

variable "region" {
  description = "Region of the workflows (the same as the media job's)."
  type        = string
}

variable "service_account_email" {
  description = "Identity the workflows run as."
  type        = string
}

variable "workflows" {
  description = "Workflow name => path of its YAML source."
  type        = map(string)
}

variable "call_log_level" {
  description = "LOG_ERRORS_ONLY, LOG_ALL_CALLS or LOG_NONE."
  type        = string
  default     = "LOG_ERRORS_ONLY"
}
