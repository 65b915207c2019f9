output "names" {
  description = "Names of the deployed workflows."
  value       = [for wf in google_workflows_workflow.this : wf.name]
}
