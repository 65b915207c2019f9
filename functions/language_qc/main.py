"""Cloud Function `language_qc`: per-language assignments, the QC state machine, comments, work queues."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("language_qc", [sibling(__file__, "routes").bp])
language_qc = functions_framework.http(entry_point(app))
