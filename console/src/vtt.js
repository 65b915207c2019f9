// WebVTT at block level, enough to edit one cue and keep everything else byte for byte: the
// header, NOTE blocks (the pipeline's `NOTE avp {...}` metadata), STYLE/REGION blocks, cue
// identifiers and cue settings. Cue indexes count cue blocks in file order, as the API does.
const TIME = /^(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})$/;

export function parseTime(text) {
  const m = TIME.exec(String(text).trim());
  if (!m) return null;
  return Number(m[1] || 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
}

export function formatTime(seconds) {
  const ms = Math.round(seconds * 1000);
  const hh = String(Math.floor(ms / 3_600_000)).padStart(2, "0");
  const mm = String(Math.floor(ms / 60_000) % 60).padStart(2, "0");
  const ss = String(Math.floor(ms / 1000) % 60).padStart(2, "0");
  return `${hh}:${mm}:${ss}.${String(ms % 1000).padStart(3, "0")}`;
}

export function parseVtt(content) {
  const blocks = content.replace(/\r\n?/g, "\n").split(/\n{2,}/).filter((b) => b.trim() !== "").map((b) => b.split("\n"));
  const cues = [];
  blocks.forEach((lines, blockIndex) => {
    const at = lines.findIndex((l) => l.includes("-->"));
    if (blockIndex === 0 || at < 0 || at > 1 || /^NOTE(\s|$)/.test(lines[0])) return;
    const [startText, rest] = lines[at].split("-->");
    const [endText, ...settings] = rest.trim().split(/\s+/);
    cues.push({ index: cues.length, blockIndex, identifier: at === 1 ? lines[0] : null,
      start: parseTime(startText), end: parseTime(endText), settings: settings.join(" "),
      text: lines.slice(at + 1).join("\n") });
  });
  return { blocks, cues };
}

/** The content with cue `index` given new timing and text; every other block unchanged. */
export function replaceCue(parsed, index, { start, end, text }) {
  const cue = parsed.cues[index];
  const timing = `${formatTime(start)} --> ${formatTime(end)}${cue.settings ? ` ${cue.settings}` : ""}`;
  const lines = [...(cue.identifier !== null ? [cue.identifier] : []), timing,
    ...text.replace(/\r\n?/g, "\n").split("\n").filter((l) => l.trim() !== "")];
  const blocks = parsed.blocks.map((b, i) => (i === cue.blockIndex ? lines : b));
  return `${blocks.map((b) => b.join("\n")).join("\n\n")}\n`;
}
