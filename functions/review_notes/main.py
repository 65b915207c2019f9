"""Cloud Function `review_notes`: timestamped notes on a job's media."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("review_notes", [sibling(__file__, "routes").bp])
review_notes = functions_framework.http(entry_point(app))
