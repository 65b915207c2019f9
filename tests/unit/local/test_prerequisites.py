from avp.local.emulators import check_prerequisites


def test_a_missing_emulator_is_reported_with_what_to_install(monkeypatch):
    monkeypatch.setenv("AVP_FIRESTORE_EMULATOR", "/nonexistent/cloud_firestore_emulator")
    missing = check_prerequisites()
    assert missing and "apt-get install google-cloud-cli" in missing[0] and "gcloud components install" in missing[0]


def test_java_is_required(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert any("Java" in m for m in check_prerequisites())
