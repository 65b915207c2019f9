"""Cloud Function `auth`: sign-in, refresh, sign-out."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("auth", [sibling(__file__, "routes").bp])
auth = functions_framework.http(entry_point(app))
