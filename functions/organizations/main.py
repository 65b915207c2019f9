"""Cloud Function `organizations`: tenants and their members."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("organizations", [sibling(__file__, "routes").bp])
organizations = functions_framework.http(entry_point(app))
