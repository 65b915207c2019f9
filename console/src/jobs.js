// The Jobs screen: the caller's jobs in a table that follows each job's status document live
// (and adds jobs made elsewhere as they appear), filters, and the upload of a new video through
// a resumable session.
import { uploadResumable } from "./upload.js";
import { announce, errorText, field, h, percent, setMain, uid, when } from "./ui.js";

export const STATUSES = ["uploading", "queued", "processing", "pending_qc", "language_qc", "final_review", "complete",
  "failed", "cancelled", "rejected", "blocked_on_source"];
const CREATE_ROLES = new Set(["client", "production", "project_manager", "admin"]);
const PAGE_SIZE = 50;
const label = (s) => (s ? s.replaceAll("_", " ") : "");

function statusCell(status) {
  return h("span", { class: `status status-${status}` }, label(status));
}

function progressCell(value) {
  const p = Math.max(0, Math.min(1, Number(value) || 0));
  return [h("progress", { max: 1, value: p, "aria-label": `Progress ${percent(p)}` }), " ", percent(p)];
}

export async function jobsView({ api, live }) {
  const stops = [];
  const rows = new Map(); // job id -> {job, tr}
  const statusFilter = h("select", {}, h("option", { value: "" }, "All statuses"),
    ...STATUSES.map((s) => h("option", { value: s }, label(s))));
  const search = h("input", { type: "search", placeholder: "Part of a title" });
  const tbody = h("tbody");
  const count = h("p", { role: "status" });
  const headingId = uid("jobs");
  const table = h("table", { "aria-labelledby": headingId, tabindex: -1 },
    h("thead", {}, h("tr", {}, ...["Title", "Status", "Stage", "Progress", "Updated"].map((c) => h("th", { scope: "col" }, c)))),
    tbody);

  function render(entry) {
    const { job } = entry;
    const cells = [
      h("td", {}, h("a", { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.title || job.filename || job.id)),
      h("td", {}, statusCell(job.status)),
      h("td", {}, label(job.stage)),
      h("td", {}, ...progressCell(job.progress)),
      h("td", {}, when(job.updated_at)),
    ];
    entry.tr.replaceChildren(...cells);
  }

  function applySearch() {
    const needle = search.value.trim().toLowerCase();
    let shown = 0;
    for (const { job, tr } of rows.values()) {
      const match = !needle || (job.title || "").toLowerCase().includes(needle);
      const statusOk = !statusFilter.value || job.status === statusFilter.value;
      tr.hidden = !(match && statusOk);
      if (!tr.hidden) shown += 1;
    }
    count.textContent = `${shown} job${shown === 1 ? "" : "s"} shown${nextCursor ? ", more to load" : ""}`;
  }

  async function follow(jobId) {
    stops.push(await live.watch(jobId, (status) => {
      const entry = rows.get(jobId);
      if (!entry) return;
      const before = entry.job.status;
      entry.job = { ...entry.job, ...status, id: jobId };
      render(entry);
      applySearch();
      if (before !== entry.job.status) announce(`${entry.job.title || jobId}: ${label(entry.job.status)}`);
    }));
  }

  function addRow(job, first = false) {
    if (rows.has(job.id)) return;
    const entry = { job, tr: h("tr", { dataset: { jobId: job.id } }) };
    rows.set(job.id, entry);
    render(entry);
    if (first) tbody.prepend(entry.tr);
    else tbody.append(entry.tr);
    follow(job.id).catch((e) => console.warn("live status unavailable:", e));
  }

  // The list arrives a page at a time, newest first; "Load more jobs" follows the page's cursor.
  let nextCursor = null;
  let generation = 0; // a filter change starts a new list: pages of the old one are dropped
  const more = h("button", { type: "button", hidden: true }, "Load more jobs");

  async function fetchPage(cursor) {
    const mine = generation;
    const params = { status: statusFilter.value, size: PAGE_SIZE, sort: "-created_at" };
    if (cursor) params.cursor = cursor;
    const page = await api.get("/jobs", params);
    if (mine !== generation) return;
    for (const job of page.items) addRow(job);
    nextCursor = page.next_cursor || null;
    more.hidden = !nextCursor;
    applySearch();
  }

  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      await fetchPage(nextCursor);
    } catch (e) {
      count.textContent = errorText(e);
    } finally {
      more.disabled = false;
      if (more.hidden) table.focus();
    }
  });

  async function load() {
    while (stops.length) stops.pop()();
    generation += 1;
    rows.clear();
    tbody.replaceChildren();
    // Jobs made from now on (here, by a colleague, through the API) arrive through a listener.
    const since = new Date(Date.now() - 60_000);
    await fetchPage(null);
    live.watchNew(since, (status) => {
      if (rows.has(status.id)) return;
      addRow(status, true);
      applySearch();
      announce(`New job: ${status.title || status.id}`);
    }).then((stop) => stops.push(stop)).catch((e) => console.warn("new jobs not followed live:", e));
  }

  statusFilter.addEventListener("change", () => load().catch((e) => { count.textContent = errorText(e); }));
  search.addEventListener("input", applySearch);

  const filters = h("form", { class: "row", role: "search", "aria-label": "Filter jobs", onsubmit: (e) => e.preventDefault() },
    field("Status", statusFilter), field("Search by title", search));
  const canUpload = CREATE_ROLES.has(api.user.role);
  setMain("Jobs",
    h("h1", {}, "Jobs"),
    canUpload ? await uploadForm(api, (job) => { addRow(job, true); applySearch(); }) : null,
    h("section", { "aria-labelledby": headingId },
      h("h2", { id: headingId }, "Jobs"), filters, count, table, more));
  await load();
  return () => { while (stops.length) stops.pop()(); };
}

async function uploadForm(api, onCreated) {
  const file = h("input", { type: "file", accept: "video/*,audio/*", required: true });
  const title = h("input", { type: "text", maxlength: 300 });
  const source = h("input", { type: "text", value: "en", size: 6, required: true });
  const targets = h("input", { type: "text", placeholder: "fr, de" });
  const outputs = [
    ["captions_vtt", "Captions (WebVTT)", true],
    ["audio_description_vtt", "Audio description script (WebVTT)", true],
    ["audio_description_mp3", "Audio description track (MP3)", true],
    ["accessible_video_mp4", "Accessible MP4 (extended description)", true],
  ].map(([name, text, checked]) => {
    const box = h("input", { type: "checkbox", name, defaultChecked: checked, id: uid("out") });
    return { name, box, el: h("div", {}, box, " ", h("label", { for: box.id }, text)) };
  });
  let orgs = [];
  try {
    orgs = (await api.get("/organizations", { size: 100 })).items || [];
  } catch { /* a role that cannot list organizations uploads into its only one */ }
  const org = orgs.length ? h("select", {}, ...orgs.map((o) => h("option", { value: o.id }, o.name))) : null;
  const bar = h("progress", { max: 1, value: 0 });
  const barText = h("span", {}, "");
  const barWrap = h("div", { hidden: true }, field("Upload progress", bar), barText);
  const message = h("p", { role: "status" });
  const submit = h("button", { type: "submit" }, "Upload");

  const form = h("form", { class: "card", "aria-labelledby": "upload-heading" },
    h("h2", { id: "upload-heading" }, "Upload a video"),
    h("div", { class: "row" }, field("Video file", file), field("Title", title), field("Source language", source),
      field("Target languages", targets, "BCP-47 tags separated by commas"), org ? field("Organization", org) : null),
    h("fieldset", {}, h("legend", {}, "Outputs"), ...outputs.map((o) => o.el)),
    barWrap, message, submit);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen) {
      message.textContent = "Choose a video file first.";
      file.focus();
      return;
    }
    submit.disabled = true;
    barWrap.hidden = false;
    message.textContent = "Uploading…";
    const languages = targets.value.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean);
    const requested = Object.fromEntries(outputs.map((o) => [o.name, o.box.checked]));
    requested.languages = languages;
    const common = { title: title.value.trim() || chosen.name, ...(org ? { org_id: org.value } : {}) };
    try {
      const session = await api.post("/jobs/upload/init", { filename: chosen.name, content_type: chosen.type || "video/mp4",
        size_bytes: chosen.size, source_language: source.value.trim(), requested_outputs: requested, ...common });
      await uploadResumable(session, chosen, (sent) => {
        bar.value = sent / chosen.size;
        barText.textContent = `${percent(sent / chosen.size)} uploaded`;
      });
      const job = await api.post("/jobs/upload/complete", { job_id: session.job_id, gcs_uri: session.gcs_uri,
        filename: chosen.name, source_language: source.value.trim(), requested_outputs: requested, ...common });
      message.textContent = `Uploaded “${job.title}”: ${label(job.status)}.`;
      onCreated(job);
      form.reset();
      source.value = "en";
    } catch (e) {
      message.textContent = `Upload failed: ${errorText(e)}`;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
