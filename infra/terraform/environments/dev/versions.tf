terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State lives in a bucket made once by hand:
  #   terraform init -backend-config="bucket=STATE_BUCKET" -backend-config="prefix=avp/dev"
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
}
