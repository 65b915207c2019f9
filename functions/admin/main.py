"""Cloud Function `admin`: users, platform statistics, health, maintenance, audit logs."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("admin", [sibling(__file__, "routes").bp])
admin = functions_framework.http(entry_point(app))
