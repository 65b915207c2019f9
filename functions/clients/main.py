"""Cloud Function `clients`: clients of an organization, their PMs, teams and projects."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("clients", [sibling(__file__, "routes").bp])
clients = functions_framework.http(entry_point(app))
