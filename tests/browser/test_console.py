"""The console in a real browser against `avp up`: sign in and out, upload the bundled sample with
a progress bar, watch the Jobs table follow the job live (no reload, no polling), open the job,
play the accessible MP4 with its caption and description tracks, edit and save a cue (and meet a
conflicting save without losing the edit), restore a version, approve — with axe-core on every
screen. The tests run in order and share one stack and one job, as one person's session would."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.browser.conftest import check_accessibility, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "avp" / "demo_media" / "sample.mp4"
JOB: dict[str, str] = {}


def test_sign_in_shows_errors_and_sign_out_ends_the_session(page, stack):
    page.goto(f"{stack.url}/console/")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.get_by_role("button", name="Sign in with Microsoft").count() == 0  # not configured here
    check_accessibility(page, "sign-in")
    screenshot(page, "sign-in")
    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="Wrong email or password").wait_for()

    sign_in(page, stack)
    assert "Administrator" in page.get_by_role("navigation", name="Account").inner_text()
    # A reload keeps the session through the refresh cookie; the access token itself was only in memory.
    page.reload()
    page.get_by_role("table", name="Jobs").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.reload()
    page.get_by_role("heading", name="Sign in").wait_for()  # the refresh cookie is gone too


def test_upload_then_the_jobs_table_follows_the_job_live(page, stack, api):
    org = api.post(f"{api.base}/organizations", json={"name": "Browser Org"}, timeout=10)
    assert org.status_code == 201, org.text
    sign_in(page, stack)
    check_accessibility(page, "jobs")
    requests_seen: list[str] = []
    page.on("request", lambda r: requests_seen.append(f"{r.method} {r.url}"))
    page.evaluate("window.__still_here = true")

    page.get_by_label("Video file").set_input_files(str(SAMPLE))
    page.get_by_label("Title", exact=True).fill("Harbour browser test")
    page.get_by_label("Target languages").fill("fr")
    page.get_by_label("Organization").select_option(label="Browser Org")
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("status").filter(has_text="Uploaded").wait_for(timeout=30_000)
    assert page.get_by_label("Upload progress").evaluate("p => p.value") == 1

    row = page.get_by_role("table", name="Jobs").get_by_role("row").filter(has_text="Harbour browser test")
    JOB["id"] = row.get_attribute("data-job-id")
    # Every text the status cell shows, recorded in the page as it changes.
    row.evaluate("""row => {
        window.__statuses = [row.cells[1].innerText];
        new MutationObserver(() => window.__statuses.push(row.cells[1].innerText))
            .observe(row, {childList: true, subtree: true, characterData: true});
    }""")
    screenshot(page, "jobs-processing")
    page.wait_for_function("() => window.__statuses.at(-1) === 'pending qc'", timeout=240_000, polling=500)
    statuses = page.evaluate("window.__statuses")
    assert "processing" in statuses and statuses[-1] == "pending qc", statuses
    assert row.locator("td").nth(3).inner_text().strip().endswith("100%")
    assert page.evaluate("window.__still_here") is True  # the page was never reloaded
    listed = [r for r in requests_seen if re.search(r"GET \S+/api/v1/jobs(\?|$)", r)]
    assert listed == [], listed  # nor polled: the changes came from the Firestore listener

    page.get_by_label("Search by title").fill("no such title")
    assert row.is_hidden()
    page.get_by_label("Search by title").fill("harbour")
    assert row.is_visible()
    page.get_by_label("Status", exact=True).select_option("failed")
    page.get_by_text("0 jobs shown").wait_for()
    page.get_by_label("Status", exact=True).select_option("pending_qc")
    page.get_by_role("table", name="Jobs").get_by_role("row").filter(has_text="Harbour browser test").wait_for()


def test_the_job_page_plays_the_accessible_mp4_with_its_tracks(page, stack):
    sign_in(page, stack)
    page.get_by_role("link", name="Harbour browser test").click()
    page.get_by_role("heading", name="Harbour browser test").wait_for()
    page.get_by_text("version 1:").wait_for()
    check_accessibility(page, "job")
    video = page.locator("video")
    assert page.get_by_label("Video", exact=True).evaluate("s => s.value") == "accessible_mp4"
    assert "/outputs/en/accessible.mp4" in video.evaluate("v => v.currentSrc")
    page.wait_for_function("""() => [...document.querySelectorAll('video track')]
        .every(t => t.readyState === 2 && t.track.cues && t.track.cues.length > 0)""", timeout=20_000)
    kinds = video.evaluate("v => [...v.querySelectorAll('track')].map(t => [t.kind, t.srclang, t.track.mode])")
    assert ["captions", "en", "showing"] in kinds and ["descriptions", "en", "hidden"] in kinds
    video.evaluate("v => v.play()")
    page.wait_for_function("() => document.querySelector('video').currentTime > 0.5", timeout=20_000)
    video.evaluate("v => v.pause()")
    screenshot(page, "job")

    # Clicking a cue seeks the player there, and the list follows playback.
    page.get_by_role("button", name="Play cue 2").click()
    page.wait_for_function("() => document.querySelector('li.cue[data-index=\"1\"]').getAttribute('aria-current') === 'true'",
                           timeout=10_000)
    start = float(video.evaluate("v => v.currentTime"))
    video.evaluate("v => v.pause()")
    # Where the recognizer put cue 2 (its words, so its times, may change with the model's settings).
    cue = float(video.evaluate("v => [...v.textTracks].find(t => t.kind === 'captions').cues[1].startTime"))
    assert cue - 0.05 <= start < cue + 1.5, (start, cue)



def test_edit_a_cue_meet_a_conflict_lose_nothing_and_restore(page, stack, api):
    sign_in(page, stack)
    page.goto(f"{stack.url}/console/#/jobs/{JOB['id']}/en")
    page.get_by_text("version 1:").wait_for()
    # The recognizer's version, as the pipeline made it (restored at the end).
    made = api.get(f"{api.base}/jobs/{JOB['id']}/vtt", params={"lang": "en", "kind": "captions"}, timeout=10).json()
    assert made["version"] == 1
    page.get_by_role("button", name="Edit cue 1").click()
    page.keyboard.press("Escape")  # leaves the editor, focus back on the cue
    assert page.get_by_role("form", name="Edit cue 1").count() == 0
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Play cue 1"
    page.get_by_role("button", name="Edit cue 1").click()
    form = page.get_by_role("form", name="Edit cue 1")
    form.get_by_label("Text").fill("Welcome to the harbour, every evening.")
    form.get_by_label("End").fill("00:00:03.000")
    screenshot(page, "review-edit")
    form.get_by_role("button", name="Save").click()
    page.get_by_text("version 2:").wait_for()
    first = page.locator("li.cue[data-index='0']")
    assert "Welcome to the harbour, every evening." in first.inner_text()
    assert "00:00:03.000" in first.inner_text()
    saved = api.get(f"{api.base}/jobs/{JOB['id']}/vtt", params={"lang": "en", "kind": "captions"}, timeout=10).json()
    assert saved["version"] == 2 and "Welcome to the harbour, every evening." in saved["content"]
    # The player's captions track was reloaded with the saved text.
    page.wait_for_function("""() => [...document.querySelector('video').textTracks].some(t => t.kind === 'captions'
        && t.cues && [...t.cues].some(c => c.text.includes('harbour, every evening.')))""")

    # Someone else saves while this editor is open: the save answers with the conflict, the edit stays.
    page.get_by_role("button", name="Edit cue 3").click()
    form = page.get_by_role("form", name="Edit cue 3")
    form.get_by_label("Text").fill("The lighthouse keeps watch over the harbour.")
    other = api.patch(f"{api.base}/jobs/{JOB['id']}/vtt", timeout=10, json={
        "lang": "en", "kind": "captions", "base_version": 2, "comment": "another reviewer",
        "content": saved["content"].replace("the fishing boats", "the fishing boats all")})
    assert other.status_code == 200, other.text
    form.get_by_role("button", name="Save").click()
    form.get_by_role("alert").filter(has_text="Conflict: version 3").wait_for()
    assert form.get_by_label("Text").input_value() == "The lighthouse keeps watch over the harbour."
    check_accessibility(page, "review-conflict")
    screenshot(page, "review-conflict")
    form.get_by_role("button", name="Apply my edit to the latest version").click()
    form.get_by_role("button", name="Save").click()
    page.get_by_text("version 4:").wait_for()
    latest = api.get(f"{api.base}/jobs/{JOB['id']}/vtt", params={"lang": "en", "kind": "captions"}, timeout=10).json()
    assert "the fishing boats all" in latest["content"]  # theirs kept
    assert "The lighthouse keeps watch over the harbour." in latest["content"]  # and mine

    page.get_by_role("button", name="Restore version 1").click()
    page.get_by_text("version 5:").wait_for()
    restored = api.get(f"{api.base}/jobs/{JOB['id']}/vtt", params={"lang": "en", "kind": "captions"}, timeout=10).json()
    assert restored["version"] == 5 and restored["content"] == made["content"]
    assert "restore of version 1" in page.get_by_role("region", name="Review").inner_text()

    # A cue that breaks the caption style rules carries its QC problems in the list.
    page.get_by_role("button", name="Edit cue 2").click()
    form = page.get_by_role("form", name="Edit cue 2")
    form.get_by_label("Text").fill("the fishing boats of the whole northern coast come home every single evening "
                                   "before the sun goes down behind the hills")
    form.get_by_role("button", name="Save").click()
    page.get_by_text("version 6:").wait_for()
    problems = page.get_by_role("list", name="QC problems of cue 2")
    problems.wait_for()
    assert problems.inner_text().startswith("QC: ")
    assert page.get_by_role("list", name="QC problems of cue 1").count() == 0
    assert re.search(r"caption QC: \d+ problem", page.get_by_role("region", name="Review").inner_text())


def test_approving_the_source_moves_the_job_on_live(page, stack, api):
    sign_in(page, stack)
    page.goto(f"{stack.url}/console/#/jobs/{JOB['id']}/en")
    page.get_by_role("button", name="Approve source").wait_for()
    page.get_by_role("button", name="Approve source").click()
    page.locator("#job-status").filter(has_text="language qc").wait_for(timeout=20_000)
    page.get_by_text("Source approved.").wait_for()
    screenshot(page, "job-approved")

    # The approval starts the French work; once its tracks exist the language switch shows them.
    deadline = time.monotonic() + 120
    while api.get(f"{api.base}/jobs/{JOB['id']}/vtt", params={"lang": "fr", "kind": "captions"}, timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "no French captions two minutes after approval"
        time.sleep(1)
    page.get_by_label("Language", exact=True).select_option("fr")
    page.wait_for_function("() => document.querySelector('video track') && document.querySelector('video track').srclang === 'fr'")
    assert "/source.mp4" in page.locator("video").evaluate("v => v.currentSrc") or "fr/accessible.mp4" in page.locator("video").evaluate("v => v.currentSrc")
    page.get_by_text("Captions (fr), version 1").wait_for()
    page.get_by_role("link", name="All jobs").click()
    row = page.get_by_role("table", name="Jobs").get_by_role("row").filter(has_text="Harbour browser test")
    row.filter(has_text="language qc").wait_for()


def _person(api, role: str) -> tuple[dict, str]:
    org_id = api.get(f"{api.base}/jobs/{JOB['id']}", timeout=10).json()["org_id"]
    email, password = f"{role}@example.com", f"{role} password 1234"
    user = api.post(f"{api.base}/admin/users", timeout=10, json={"email": email, "role": role, "password": password})
    assert user.status_code == 201, user.text
    member = api.post(f"{api.base}/organizations/{org_id}/members", json={"user_id": user.json()["id"], "role": role},
                      timeout=10)
    assert member.status_code in (200, 201), member.text
    return user.json(), password


def test_a_reviewer_marks_cues_reviewed_and_approves_the_language(page, stack, api):
    import requests

    linguist, linguist_password = _person(api, "linguist")
    reviewer, reviewer_password = _person(api, "reviewer")
    qc = f"{api.base}/language-qc/jobs/{JOB['id']}/languages/fr"
    assert api.post(f"{qc}/assign", json={"user_id": linguist["id"]}, timeout=10).status_code == 200
    assert api.post(f"{qc}/assign-reviewer", json={"user_id": reviewer["id"]}, timeout=10).status_code == 200
    for who, password, actions in ((linguist, linguist_password, ("start-work", "submit")),
                                   (reviewer, reviewer_password, ("open-review",))):
        token = requests.post(f"{api.base}/auth/login", json={"email": who["email"], "password": password},
                              timeout=10).json()["access_token"]
        for action in actions:
            done = requests.post(f"{qc}/{action}", json={}, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert done.status_code == 200, (action, done.text)

    sign_in(page, stack, reviewer["email"], reviewer_password)
    assert page.get_by_role("button", name="Upload").count() == 0  # a reviewer does not create jobs
    page.goto(f"{stack.url}/console/#/jobs/{JOB['id']}/fr")
    page.get_by_text("Language QC for fr: in review").wait_for()
    # The API decides: approving before every cue is reviewed is refused, and the console says why.
    page.get_by_role("button", name="Approve fr").click()
    page.get_by_text(re.compile(r"Not done: 0/\d+ cues reviewed")).wait_for()
    page.get_by_role("button", name="Mark reviewed cue 1").click()
    page.locator("li.cue[data-index='0']").get_by_text("Reviewed").wait_for()
    page.get_by_text("(1 of").wait_for()
    check_accessibility(page, "review-as-reviewer")
    screenshot(page, "review-reviewer")
    marks = page.get_by_role("button", name=re.compile(r"^Mark reviewed cue \d+$"))
    while marks.count():
        left = marks.count()
        marks.first.click()
        page.wait_for_function(f"() => document.querySelectorAll('button[aria-label^=\"Mark reviewed cue\"]').length < {left}")
    page.get_by_role("button", name="Approve fr").click()
    page.get_by_text("fr approved.").wait_for()
    page.get_by_text("Language QC for fr: approved").wait_for()
    state = api.get(f"{api.base}/language-qc/jobs/{JOB['id']}/language-qc", timeout=10).json()["languages"]["fr"]
    assert state["status"] == "approved" and 0 in state["reviewed_cue_indexes"]


def test_keyboard_alone_reaches_sign_in_and_the_jobs(page, stack):
    page.goto(f"{stack.url}/console/")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.evaluate("document.activeElement.type") == "email"  # the form is ready to type into
    page.keyboard.type("admin@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("admin password 1234")
    page.keyboard.press("Enter")
    page.get_by_role("table", name="Jobs").wait_for()
    # Backwards from the page heading: the account menu, the home link, then the skip link, with a focus ring.
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent") == "Skip to content":
            break
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.evaluate("document.activeElement.matches(':focus-visible')")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main" and page.url.endswith("#/jobs")
    # Tab through to the first job's link and open it with Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('table') !== null"):
            break
    assert page.evaluate("document.activeElement.tagName") == "A"
    page.keyboard.press("Enter")
    page.get_by_role("region", name="Review").wait_for()
    time.sleep(0.2)


def test_a_job_made_elsewhere_appears_in_the_open_jobs_table(page, stack, api):
    sign_in(page, stack)
    table = page.get_by_role("table", name="Jobs")
    table.wait_for()
    time.sleep(1.0)  # the listener for new jobs is set up after the first page of the list
    requests_seen: list[str] = []
    page.on("request", lambda r: requests_seen.append(f"{r.method} {r.url}"))
    org = api.get(f"{api.base}/organizations", params={"q": "Browser Org"}, timeout=10).json()["items"][0]["id"]
    made = api.post(f"{api.base}/jobs/upload/init", json={"filename": "elsewhere.mp4", "content_type": "video/mp4",
                                                          "size_bytes": 1000, "title": "Made elsewhere", "org_id": org},
                    timeout=10)
    assert made.status_code == 201, made.text
    row = table.get_by_role("row").filter(has_text="Made elsewhere")
    row.wait_for(timeout=15_000)
    assert row.get_attribute("data-job-id") == made.json()["job_id"]
    assert "uploading" in row.inner_text()
    page.get_by_text("New job: Made elsewhere").wait_for(state="attached")
    listed = [r for r in requests_seen if re.search(r"GET \S+/api/v1/jobs(\?|$)", r)]
    assert listed == [], listed  # it came from the Firestore listener, not a reload or a poll


def test_a_production_users_jobs_table_gains_only_jobs_of_their_organization(page, stack, api):
    """The listener for new jobs with a member's keys (the rules admit only a query on their own)."""
    mine = api.post(f"{api.base}/organizations", json={"name": "Keys Org"}, timeout=10).json()["id"]
    other = api.post(f"{api.base}/organizations", json={"name": "Elsewhere Org"}, timeout=10).json()["id"]
    person = api.post(f"{api.base}/admin/users", timeout=10, json={
        "email": "prod@example.com", "role": "production", "password": "production password 1", "org_ids": [mine]})
    assert person.status_code == 201, person.text
    sign_in(page, stack, "prod@example.com", "production password 1")
    table = page.get_by_role("table", name="Jobs")
    table.wait_for()
    time.sleep(1.0)  # the listener for new jobs is set up after the first page of the list

    def upload(org: str, title: str) -> str:
        made = api.post(f"{api.base}/jobs/upload/init", timeout=10, json={
            "filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 1000, "title": title, "org_id": org})
        assert made.status_code == 201, made.text
        return made.json()["job_id"]

    upload(other, "Not for them")
    theirs = upload(mine, "For their organization")
    row = table.get_by_role("row").filter(has_text="For their organization")
    row.wait_for(timeout=15_000)
    assert row.get_attribute("data-job-id") == theirs
    assert table.get_by_role("row").filter(has_text="Not for them").count() == 0


def test_the_jobs_table_loads_more_pages_on_request(page, stack, api):
    org = api.get(f"{api.base}/organizations", params={"q": "Browser Org"}, timeout=10).json()["items"][0]["id"]
    for n in range(52):
        made = api.post(f"{api.base}/jobs/upload/init", timeout=10, json={
            "filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 1000, "title": f"Batch {n:02d}", "org_id": org})
        assert made.status_code == 201, made.text
    total = api.get(f"{api.base}/jobs", params={"size": 1}, timeout=10).json()["total"]
    assert 50 < total <= 100, total  # two pages of 50
    sign_in(page, stack)
    rows = page.get_by_role("table", name="Jobs").locator("tbody tr")
    page.get_by_text("50 jobs shown, more to load").wait_for()
    more = page.get_by_role("button", name="Load more jobs")
    more.click()
    page.get_by_text(f"{total} jobs shown", exact=True).wait_for()
    assert more.is_hidden() and rows.count() == total
    ids = rows.evaluate_all("rs => rs.map(r => r.dataset.jobId)")
    assert len(set(ids)) == total, "no job twice"
    check_accessibility(page, "jobs-more")
