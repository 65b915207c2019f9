variable "project_id" {
  description = "Project of this environment."
  type        = string
}

variable "region" {
  description = "Region of the functions, job, workflows and bucket."
  type        = string
  default     = "europe-west1"
}

variable "bucket_name" {
  description = "Media bucket name (globally unique)."
  type        = string
}

variable "cors_origins" {
  description = "Browser origins of the web client."
  type        = list(string)
}

variable "public_url" {
  description = "Public base URL of the API."
  type        = string
}

variable "deployer_member" {
  description = "IAM member that runs cloudbuild.yaml (serviceAccount:...); null grants nothing."
  type        = string
  default     = null
}
