# The pipeline workflows. Terraform creates them with the repository's YAML; after that
# cloudbuild.yaml deploys each new revision (gcloud workflows deploy), so the source is not
# tracked here and an older checkout cannot roll a workflow back.
resource "google_workflows_workflow" "this" {
  for_each        = var.workflows
  project         = var.project_id
  region          = var.region
  name            = each.key
  description     = "avp ${each.key}"
  service_account = var.service_account_email
  call_log_level  = var.call_log_level
  source_contents = file(each.value)

  lifecycle {
    ignore_changes = [source_contents]
  }
}
