// The job screen: live status, the player with caption and description tracks, downloads, the
// role's actions, and the review of one language's cues (edit, versions, QC marks).
import { ApiError } from "./api.js";
import { formatTime, parseTime, parseVtt, replaceCue } from "./vtt.js";
import { announce, append, errorText, field, h, percent, setMain, uid, when } from "./ui.js";

const replace = (el, ...children) => { el.replaceChildren(); append(el, children); };

const label = (s) => (s ? String(s).replaceAll("_", " ") : "");
const KIND_LABEL = { captions: "Captions", descriptions: "Descriptions" };
const ROLES = {
  approve_source: ["reviewer", "production", "admin"],
  reject: ["reviewer", "production", "admin"],
  complete: ["project_manager", "admin"],
  return_to_qc: ["project_manager", "admin"],
};

async function vttText(api, jobId, lang, kind) {
  try {
    return await api.request("GET", `/jobs/${jobId}/vtt`, { query: { lang, kind }, accept: "text/vtt" });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export async function jobView(ctx, jobId, langParam) {
  const { api, live } = ctx;
  const stops = [];
  const urls = [];
  const base = `/jobs/${encodeURIComponent(jobId)}`;
  let job = await api.get(base);
  const languages = [job.source_language, ...(job.languages || []).filter((l) => l !== job.source_language)].filter(Boolean);
  const lang = languages.includes(langParam) ? langParam : languages[0];
  // All languages' links: the source video plays under every language.
  const all = await api.get(`${base}/downloads`).catch(() => ({ items: [] }));
  const downloads = { items: all.items.filter((d) => d.language === lang || d.kind === "source_video") };
  const item = (kind) => downloads.items.find((d) => d.kind === kind && (d.language === lang || kind === "source_video"));

  // -- status (live) ---------------------------------------------------------------------------
  const statusEl = h("span", { class: "status" });
  const stageEl = h("span");
  const bar = h("progress", { max: 1, value: 0, "aria-label": "Job progress" });
  const barText = h("span");
  const updatedEl = h("span");
  const failure = h("p", { class: "error", role: "alert", hidden: true });
  function showStatus(s) {
    statusEl.textContent = label(s.status);
    statusEl.className = `status status-${s.status}`;
    stageEl.textContent = label(s.stage) || "—";
    bar.value = Number(s.progress) || 0;
    barText.textContent = percent(s.progress);
    updatedEl.textContent = when(s.updated_at);
    failure.hidden = s.status !== "failed" || !s.failure_reason;
    failure.textContent = s.failure_reason ? `Failed${s.failed_step ? ` at ${label(s.failed_step)}` : ""}: ${s.failure_reason}` : "";
  }
  showStatus(job);
  const statusSection = h("section", { "aria-labelledby": "status-heading", class: "card" },
    h("h2", { id: "status-heading" }, "Status"),
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", { id: "job-status" }, statusEl),
      h("dt", {}, "Stage"), h("dd", { id: "job-stage" }, stageEl),
      h("dt", {}, "Progress"), h("dd", {}, bar, " ", barText),
      h("dt", {}, "Updated"), h("dd", {}, updatedEl),
      h("dt", {}, "Source language"), h("dd", {}, job.source_language || "—")),
    failure);

  // -- language switch -------------------------------------------------------------------------
  const langSelect = h("select", {}, ...languages.map((l) => h("option", { value: l, selected: l === lang },
    `${l}${l === job.source_language ? " (source)" : ""}`)));
  langSelect.addEventListener("change", () => { window.location.hash = `#/jobs/${jobId}/${langSelect.value}`; });

  // -- player ----------------------------------------------------------------------------------
  const sources = [["accessible_mp4", "Accessible MP4"], ["source_video", "Source video"]]
    .map(([kind, text]) => ({ kind, text, link: item(kind) })).filter((s) => s.link);
  const video = h("video", { controls: true, preload: "metadata", id: "player" });
  const videoSelect = h("select", {}, ...sources.map((s) => h("option", { value: s.kind }, s.text)));
  const setSource = () => {
    const chosen = sources.find((s) => s.kind === videoSelect.value);
    if (!chosen) return;
    const t = video.currentTime;
    video.src = chosen.link.url;
    video.dataset.kind = chosen.kind;
    if (t) video.currentTime = t;
  };
  videoSelect.addEventListener("change", setSource);
  setSource();
  const describer = h("p", { "aria-live": "polite", class: "notice", id: "description-now", hidden: true });
  const trackEls = {};
  async function loadTracks() {
    for (const kind of ["captions", "descriptions"]) {
      const text = await vttText(api, jobId, lang, kind);
      if (trackEls[kind]) trackEls[kind].remove();
      if (text === null) continue;
      const url = URL.createObjectURL(new Blob([text], { type: "text/vtt" }));
      urls.push(url);
      const el = h("track", { kind, src: url, srclang: lang, label: `${KIND_LABEL[kind]} (${lang})`, default: kind === "captions" });
      video.append(el);
      trackEls[kind] = el;
      if (kind === "descriptions") {
        // Descriptions are read out through a live region, so they load and follow playback.
        el.track.mode = "hidden";
        el.track.addEventListener("cuechange", () => {
          const cue = el.track.activeCues && el.track.activeCues[0];
          describer.hidden = !cue;
          describer.textContent = cue ? `Description: ${cue.text}` : "";
        });
      }
    }
  }
  await loadTracks();
  const playerSection = h("section", { "aria-labelledby": "player-heading" },
    h("h2", { id: "player-heading" }, "Player"),
    h("div", { class: "row" }, field("Language", langSelect), sources.length ? field("Video", videoSelect) : null),
    sources.length ? video : h("p", {}, "No video to play yet."), describer);

  // -- downloads -------------------------------------------------------------------------------
  const downloadsSection = h("section", { "aria-labelledby": "downloads-heading" },
    h("h2", { id: "downloads-heading" }, "Downloads"),
    downloads.items.length
      ? h("ul", {}, ...downloads.items.map((d) => h("li", {}, h("a", { href: d.url, download: d.filename },
        `${label(d.kind)} (${d.language})`), d.size_bytes ? ` · ${Math.ceil(d.size_bytes / 1024)} KiB` : "")))
      : h("p", {}, "Nothing to download yet."));

  // -- actions ---------------------------------------------------------------------------------
  const actionsBox = h("div");
  const actionMessage = h("p", { role: "status" });
  async function act(path, body, done) {
    actionMessage.textContent = "";
    try {
      const result = await api.post(path, body);
      if (result && result.status && result.id) job = { ...job, ...result };
      actionMessage.textContent = done;
      showStatus(job);
      renderActions();
      await refreshQc();
    } catch (e) {
      actionMessage.textContent = `Not done: ${errorText(e)}`;
    }
  }
  function reasonForm(buttonText, onReason) {
    const reason = h("textarea", { rows: 2, required: true });
    const form = h("form", { class: "field" }, field(`Reason to ${buttonText.toLowerCase()}`, reason),
      h("button", { type: "submit", class: "secondary" }, buttonText));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!reason.value.trim()) { actionMessage.textContent = "Give a reason."; reason.focus(); return; }
      onReason(reason.value.trim());
    });
    return form;
  }
  const may = (action) => ROLES[action].includes(api.user.role);
  let qcMap = null;
  function renderActions() {
    const parts = [];
    const s = job.status;
    if ((s === "pending_qc" || s === "blocked_on_source") && may("approve_source")) {
      parts.push(h("p", {}, h("button", { type: "button", onclick: () => act(`${base}/actions/approve_source`, {}, "Source approved.") },
        "Approve source")));
      parts.push(reasonForm("Reject", (reason) => act(`${base}/actions/reject`, { reason }, "Job rejected.")));
    }
    if (s === "final_review" && may("complete")) {
      parts.push(h("p", {}, h("button", { type: "button", onclick: () => act(`${base}/actions/complete`, {}, "Job complete.") },
        "Mark complete")));
    }
    if (s === "final_review" && may("return_to_qc")) {
      parts.push(reasonForm("Return to QC", (reason) => act(`${base}/actions/return_to_qc`, { reason }, "Returned to QC.")));
    }
    const state = qcMap && qcMap.languages && qcMap.languages[lang];
    if (state) {
      parts.push(h("p", {}, `Language QC for ${lang}: ${label(state.status)} (${state.reviewed_cues} of ${state.total_cues} cues reviewed)`,
        state.rejection_reason ? ` — returned: ${state.rejection_reason}` : ""));
      const qc = `/language-qc/jobs/${encodeURIComponent(jobId)}/languages/${encodeURIComponent(lang)}`;
      if (state.status === "in_review") {
        parts.push(h("p", {}, h("button", { type: "button", onclick: () => act(`${qc}/approve`, {}, `${lang} approved.`) },
          `Approve ${lang}`)));
        parts.push(reasonForm(`Return ${lang}`, (reason) => act(`${qc}/reject`, { reason }, `${lang} returned to the linguist.`)));
      }
    }
    actionsBox.replaceChildren(...(parts.length ? parts : [h("p", {}, "No action for you at this stage.")]));
  }
  async function refreshQc() {
    qcMap = await api.get(`/language-qc/jobs/${encodeURIComponent(jobId)}/language-qc`).catch(() => null);
    renderActions();
  }
  await refreshQc();
  const actionsSection = h("section", { "aria-labelledby": "actions-heading", class: "card" },
    h("h2", { id: "actions-heading" }, "Actions"), actionsBox, actionMessage);

  // -- review ----------------------------------------------------------------------------------
  const review = reviewSection(ctx, { jobId, base, lang, video, reloadTracks: loadTracks, qcState: () => qcMap?.languages?.[lang],
    onChanged: refreshQc });
  // Listen only now: the callback touches the actions built above.
  stops.push(await live.watch(jobId, (s) => {
    const before = job.status;
    const languagesBefore = JSON.stringify(job.languages_state || null);
    job = { ...job, ...s, languages: job.languages, languages_state: s.languages };
    showStatus(job);
    renderActions();
    if (before !== job.status) announce(`Job ${label(job.status)}`);
    if (before !== job.status || languagesBefore !== JSON.stringify(s.languages || null)) {
      refreshQc();
      // Tracks that did not exist yet (a language still being made) appear when they do.
      if (!review.loaded()) review.load().then(loadTracks).catch(() => {});
    }
  }).catch(() => () => {}));
  const onTime = () => review.sync(video.currentTime);
  video.addEventListener("timeupdate", onTime);

  setMain(job.title || jobId,
    h("p", {}, h("a", { href: "#/jobs" }, "← All jobs")),
    h("h1", {}, job.title || job.filename || jobId),
    statusSection, h("div", { class: "player" }, playerSection, review.element), actionsSection, downloadsSection);
  await review.load();
  return () => {
    while (stops.length) stops.pop()();
    video.removeAttribute("src");
    video.load();
    urls.forEach((u) => URL.revokeObjectURL(u));
  };
}

function reviewSection(ctx, { jobId, base, lang, video, reloadTracks, qcState, onChanged }) {
  const { api } = ctx;
  let kind = "captions";
  let doc = null;
  let parsed = { blocks: [], cues: [] };
  let violations = new Map();
  const kindSelect = h("select", {}, h("option", { value: "captions" }, "Captions"), h("option", { value: "descriptions" }, "Descriptions"));
  const summary = h("p", { role: "status" });
  const list = h("ol", { class: "cues", "aria-label": "Cues", tabindex: "-1" });
  const versionsList = h("ul", { class: "plain" });
  const items = [];

  kindSelect.addEventListener("change", () => { kind = kindSelect.value; load(); });

  async function loadQc() {
    violations = new Map();
    if (kind !== "captions") return;
    const dl = await api.get(`${base}/downloads`, { lang }).catch(() => ({ items: [] }));
    const report = dl.items.find((d) => d.kind === "qc_report" && d.language === lang);
    if (!report) return;
    try {
      const resp = await fetch(report.url);
      if (!resp.ok) return;
      for (const v of (await resp.json()).violations || []) {
        violations.set(v.cue_index, [...(violations.get(v.cue_index) || []), v.message]);
      }
    } catch { /* the summary below still says how many */ }
  }

  function seek(cue) {
    video.currentTime = cue.start + 0.001;
    video.play().catch(() => {});
  }

  function cueItem(cue) {
    const state = qcState();
    // Review marks count caption cues (the API's cue indexes of the captions track).
    const reviewed = kind === "captions" && state && (state.reviewed_cue_indexes || []).includes(cue.index);
    const li = h("li", { class: "cue", dataset: { index: cue.index } });
    const problems = violations.get(cue.index) || [];
    const view = () => replace(li,
      h("div", { class: "time" }, `${cue.index + 1}. ${formatTime(cue.start)} → ${formatTime(cue.end)}`),
      h("div", { class: "text" }, cue.text),
      problems.length ? h("ul", { class: "qc", "aria-label": `QC problems of cue ${cue.index + 1}` },
        ...problems.map((m) => h("li", {}, `QC: ${m}`))) : null,
      reviewed ? h("div", { class: "reviewed" }, "✓ Reviewed") : null,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => seek(cue), "aria-label": `Play cue ${cue.index + 1}` },
          "Play"),
        h("button", { type: "button", class: "secondary", onclick: () => edit(), "aria-label": `Edit cue ${cue.index + 1}` }, "Edit"),
        kind === "captions" && state && !reviewed && state.status === "in_review"
          ? h("button", { type: "button", class: "secondary", "aria-label": `Mark reviewed cue ${cue.index + 1}`,
            onclick: () => markReviewed(cue) }, "Mark reviewed") : null));
    function edit() {
      const start = h("input", { type: "text", value: formatTime(cue.start), inputmode: "decimal" });
      const end = h("input", { type: "text", value: formatTime(cue.end), inputmode: "decimal" });
      const text = h("textarea", { rows: 3 });
      text.value = cue.text;
      const message = h("p", { role: "alert", class: "error" });
      const form = h("form", { class: "cue-edit", "aria-label": `Edit cue ${cue.index + 1}` },
        h("div", { class: "row" }, field("Start", start), field("End", end)), field("Text", text), message,
        h("div", { class: "actions" }, h("button", { type: "submit" }, "Save"),
          h("button", { type: "button", class: "secondary", onclick: () => { view(); li.querySelector("button").focus(); } }, "Cancel")));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const s = parseTime(start.value);
        const t = parseTime(end.value);
        if (s === null || t === null || t <= s) {
          message.textContent = "Start and end are times like 00:00:01.500, and the end comes after the start.";
          return;
        }
        message.textContent = "";
        await save(cue.index, { start: s, end: t, text: text.value }, message, form);
      });
      // Escape leaves the editor unchanged, as Cancel does, and puts focus back on the cue.
      form.addEventListener("keydown", (e) => {
        if (e.key === "Escape") {
          view();
          li.querySelector("button").focus();
        }
      });
      li.replaceChildren(form);
      text.focus();
    }
    view();
    return li;
  }

  async function save(index, change, message, form) {
    try {
      doc = await api.patch(`/jobs/${jobId}/vtt`, { lang, kind, base_version: doc.version,
        content: replaceCue(parsed, index, change) });
      announce(`Saved version ${doc.version}`);
      await show();
      await reloadTracks();
      list.querySelector(`li[data-index="${index}"] button`)?.focus();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        // Someone saved first: keep the edit in the form, offer to put it on top of their version.
        const latest = await api.get(`/jobs/${jobId}/vtt`, { lang, kind });
        const who = latest.updated_by === api.user.id ? "you, in another window," : "someone else";
        message.replaceChildren(`Conflict: version ${latest.version} was saved by ${who} since you ` +
          `started from version ${doc.version}. Your edit is kept here. `,
          h("button", { type: "button", class: "secondary", onclick: async () => {
            doc = latest;
            parsed = parseVtt(latest.content);
            message.textContent = `Now editing on top of version ${latest.version}: save again to apply your edit.`;
            form.querySelector("button[type=submit]").focus();
          } }, "Apply my edit to the latest version"));
      } else {
        message.textContent = `Not saved: ${errorText(e)}`;
      }
    }
  }

  async function markReviewed(cue) {
    try {
      await api.post(`/language-qc/jobs/${jobId}/languages/${lang}/mark-cue-reviewed`, { cue_index: cue.index, version: doc.version });
      announce(`Cue ${cue.index + 1} marked reviewed`);
      await onChanged();
      await show();
    } catch (e) {
      summary.textContent = `Not marked: ${errorText(e)}`;
    }
  }

  async function loadVersions() {
    const page = await api.get(`/jobs/${jobId}/vtt/versions`, { lang, kind, size: 20 }).catch(() => ({ items: [] }));
    versionsList.replaceChildren(...page.items.map((v) => h("li", {},
      `Version ${v.version} · ${label(v.origin)}${v.restored_from ? ` of version ${v.restored_from}` : ""} · ${when(v.created_at)}` +
      ` · ${v.cue_count ?? "?"} cues` + (v.qc ? ` · QC ${v.qc.ok ? "ok" : `${v.qc.violations} problem(s)`}` : "") + " ",
      v.version === doc?.version ? h("strong", {}, "(current)") : h("button", { type: "button", class: "secondary",
        onclick: () => restore(v.version) }, `Restore version ${v.version}`))));
  }

  async function restore(version) {
    try {
      await api.post(`/jobs/${jobId}/vtt/versions/restore`, { lang, kind, version });
      announce(`Version ${version} restored`);
      await load();
      await reloadTracks();
    } catch (e) {
      summary.textContent = `Not restored: ${errorText(e)}`;
    }
  }

  async function show() {
    parsed = parseVtt(doc.content);
    await loadQc();
    items.length = 0;
    list.replaceChildren(...parsed.cues.map((c) => { const li = cueItem(c); items.push([c, li]); return li; }));
    const qc = doc.qc ? ` · caption QC: ${doc.qc.ok ? "no problems" : `${doc.qc.violations} problem(s)`}` : "";
    summary.textContent = `${KIND_LABEL[kind]} (${lang}), version ${doc.version}: ${parsed.cues.length} cues${qc}`;
    await loadVersions();
  }

  async function load() {
    try {
      doc = await api.get(`/jobs/${jobId}/vtt`, { lang, kind });
    } catch (e) {
      doc = null;
      list.replaceChildren();
      versionsList.replaceChildren();
      summary.textContent = e.status === 404 ? `No ${kind} for ${lang} yet.` : errorText(e);
      return;
    }
    await show();
  }

  function sync(time) {
    for (const [cue, li] of items) {
      const active = time >= cue.start && time < cue.end;
      if (active) li.setAttribute("aria-current", "true");
      else li.removeAttribute("aria-current");
    }
  }

  const headingId = uid("review");
  const element = h("section", { "aria-labelledby": headingId },
    h("h2", { id: headingId }, "Review"),
    field("Track", kindSelect), summary, list,
    h("h3", {}, "Version history"), versionsList);
  return { element, load, sync, loaded: () => doc !== null };
}
