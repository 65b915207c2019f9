"""Cloud Function `tts`: voices, languages and options of the speech providers, and short previews."""
import functions_framework

from avp.web import create_app, entry_point, sibling

app = create_app("tts", [sibling(__file__, "routes").bp])
tts = functions_framework.http(entry_point(app))
