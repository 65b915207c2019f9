"""Cloud Function `production`: failed jobs, bulk retry, queue figures and corrected final VTTs."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("production", [sibling(__file__, "routes").bp])
production = functions_framework.http(entry_point(app))
