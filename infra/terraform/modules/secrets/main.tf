# The access-token signing key (AVP_JWT_KEY), read by the functions through Secret Manager,
# and who may read which secret (including ones made outside Terraform, such as the Gemini key).
resource "google_secret_manager_secret" "jwt_key" {
  project   = var.project_id
  secret_id = var.secret_id

  replication {
    auto {}
  }

  labels = var.labels
}

# A generated key is convenient but lands in the Terraform state: keep the state bucket
# private, or set generate_value = false and add versions with `gcloud secrets versions add`.
resource "random_password" "jwt_key" {
  count   = var.generate_value ? 1 : 0
  length  = 64
  special = false
}

resource "google_secret_manager_secret_version" "jwt_key" {
  count       = var.generate_value ? 1 : 0
  secret      = google_secret_manager_secret.jwt_key.id
  secret_data = random_password.jwt_key[0].result
}

# Read access per secret, not per project: the functions see the JWT key, the media job never.
resource "google_secret_manager_secret_iam_member" "reader" {
  for_each  = var.read_access
  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member

  depends_on = [google_secret_manager_secret.jwt_key]
}
