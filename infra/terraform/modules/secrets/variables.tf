variable "project_id" {
  description = "Project of the secret."
  type        = string
}

variable "secret_id" {
  description = "Secret id of the JWT key; cloudbuild.yaml mounts it as AVP_JWT_KEY."
  type        = string
}

variable "generate_value" {
  description = "Create a first version with a random 64-character key."
  type        = bool
  default     = true
}

variable "read_access" {
  description = "Secret readers, keyed by a static name: the secret id and the IAM member."
  type = map(object({
    secret_id = string
    member    = string
  }))
  default = {}
}

variable "labels" {
  description = "Labels for the secret."
  type        = map(string)
  default     = {}
}
