variable "project_id" {
  description = "Project of the service accounts."
  type        = string
}

variable "deployer_member" {
  description = "IAM member that runs cloudbuild.yaml (for example serviceAccount:deployer@PROJECT.iam.gserviceaccount.com); null grants nothing."
  type        = string
  default     = null
}
