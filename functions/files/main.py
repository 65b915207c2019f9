"""Cloud Function `files`: signed uploads of auxiliary files (glossaries, final VTTs, brief attachments)."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("files", [sibling(__file__, "routes").bp])
files = functions_framework.http(entry_point(app))
