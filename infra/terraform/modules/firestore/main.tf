# Firestore holds all state. Indexes and rules come from the same files the emulator and the
# Firebase CLI use (infra/firestore.indexes.json, infra/firestore.rules), so there is one source.
locals {
  index_spec = jsondecode(file(var.indexes_file))

  # Keyed by what makes an index unique, so reordering the JSON file replaces nothing.
  indexes = {
    for idx in lookup(local.index_spec, "indexes", []) :
    join("|", concat(
      [idx.collectionGroup, lookup(idx, "queryScope", "COLLECTION")],
      [for f in idx.fields : "${f.fieldPath}:${lookup(f, "order", lookup(f, "arrayConfig", ""))}"]
    )) => idx
  }

  field_overrides = {
    for o in lookup(local.index_spec, "fieldOverrides", []) : "${o.collectionGroup}.${o.fieldPath}" => o
  }
}

resource "google_firestore_database" "main" {
  project                 = var.project_id
  name                    = "(default)" # the workflows address documents under databases/(default)
  location_id             = var.location
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy         = var.deletion_protection ? "ABANDON" : "DELETE"
}

resource "google_firestore_index" "composite" {
  for_each    = local.indexes
  project     = var.project_id
  database    = google_firestore_database.main.name
  collection  = each.value.collectionGroup
  query_scope = lookup(each.value, "queryScope", "COLLECTION")

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = lookup(fields.value, "order", null)
      array_config = lookup(fields.value, "arrayConfig", null)
    }
  }
}

# An override with an empty `indexes` list switches single-field indexing off for that field
# (large text such as VTT bodies), exactly as the Firebase CLI reads the file.
resource "google_firestore_field" "override" {
  for_each   = local.field_overrides
  project    = var.project_id
  database   = google_firestore_database.main.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  index_config {
    dynamic "indexes" {
      for_each = lookup(each.value, "indexes", [])
      content {
        query_scope  = lookup(indexes.value, "queryScope", "COLLECTION")
        order        = lookup(indexes.value, "order", null)
        array_config = lookup(indexes.value, "arrayConfig", null)
      }
    }
  }

  dynamic "ttl_config" {
    for_each = lookup(each.value, "ttl", false) ? [1] : []
    content {}
  }
}

resource "google_firebaserules_ruleset" "firestore" {
  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = file(var.rules_file)
    }
  }

  depends_on = [google_firestore_database.main]
}

resource "google_firebaserules_release" "firestore" {
  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}
