"""Cloud Function `glossaries`: XLSX term lists per client, their versions and embeddings."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("glossaries", [sibling(__file__, "routes").bp])
glossaries = functions_framework.http(entry_point(app))
