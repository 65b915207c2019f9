"""Cloud Function `briefs`: clients' requests for work, from draft to PM approval."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("briefs", [sibling(__file__, "routes").bp])
briefs = functions_framework.http(entry_point(app))
