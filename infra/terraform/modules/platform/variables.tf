variable "project_id" {
  description = "Project of the environment."
  type        = string
}

variable "region" {
  description = "Region of the functions, job, workflows and bucket (cloudbuild.yaml _REGION)."
  type        = string
}

variable "firestore_location" {
  description = "Firestore location (region or multi-region)."
  type        = string
}

variable "bucket_name" {
  description = "Media bucket name (cloudbuild.yaml _BUCKET)."
  type        = string
}

variable "cors_origins" {
  description = "Browser origins of the web client."
  type        = list(string)
}

variable "public_url" {
  description = "Public base URL of the API (AVP_PUBLIC_URL)."
  type        = string
}

variable "media_providers" {
  description = "Providers: asr (local, video-intelligence, gemini), describe (local, gemini), tts (local, espeak, google, gemini), translate (none, gemini). The steps and the functions both get them."
  type = object({
    asr       = string
    describe  = string
    tts       = string
    translate = optional(string, "none")
  })

  validation {
    condition     = contains(["local", "video-intelligence", "gemini"], var.media_providers.asr) && contains(["local", "gemini"], var.media_providers.describe) && contains(["local", "espeak", "google", "gemini"], var.media_providers.tts) && contains(["none", "gemini"], var.media_providers.translate)
    error_message = "Unknown provider: see shared/avp/providers for the names avp knows."
  }
}

variable "gemini_api_key_secret" {
  description = "Id of an existing Secret Manager secret holding the Gemini API key; null when no Gemini provider is used."
  type        = string
  default     = null
}

variable "extra_env" {
  description = "More environment for the steps and the functions alike (for example AVP_MAX_UPLOAD_BYTES)."
  type        = map(string)
  default     = {}
}

variable "log_level" {
  description = "AVP_LOG_LEVEL of the steps and the functions."
  type        = string
  default     = "INFO"
}

variable "media_job_cpu" {
  description = "CPU limit of a media step."
  type        = string
  default     = "4"
}

variable "media_job_memory" {
  description = "Memory limit of a media step."
  type        = string
  default     = "8Gi"
}

variable "bucket_versioning" {
  description = "Keep noncurrent object versions."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Protect the database, job and bucket from deletion."
  type        = bool
  default     = true
}

variable "deployer_member" {
  description = "IAM member that runs cloudbuild.yaml; null grants nothing."
  type        = string
  default     = null
}

variable "labels" {
  description = "Labels for labelled resources."
  type        = map(string)
  default     = {}
}

variable "console_bucket_name" {
  description = "Bucket of the web console's static site (default: PROJECT-avp-console)."
  type        = string
  default     = null
}

variable "firebase_api_key" {
  description = "Firebase web API key the console's listeners sign in with (a public identifier, not a secret)."
  type        = string
  default     = ""
}
