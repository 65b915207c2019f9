"""Cloud Function `invitations`: preview and accept invitation links (both public: the token is the credential)."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("invitations", [sibling(__file__, "routes").bp])
invitations = functions_framework.http(entry_point(app))
