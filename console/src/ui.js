// Small DOM helpers: elements are built with h(), never from HTML strings, so no text from the
// API is ever parsed as markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

let ids = 0;
export const uid = (prefix = "f") => `${prefix}-${++ids}`;

/** A labelled form field: the label's `for` points at the control. */
export function field(labelText, control, hint) {
  control.id ||= uid();
  const parts = [h("label", { for: control.id }, labelText)];
  if (hint) {
    const hintId = uid("hint");
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("div", { id: hintId, class: "hint" }, hint));
  }
  return h("div", { class: "field" }, ...parts, control);
}

export function announce(text) {
  const region = document.getElementById("announcer");
  region.textContent = "";
  // A fresh text node after a tick makes screen readers announce a repeated message again.
  setTimeout(() => { region.textContent = text; }, 50);
}

export function setMain(title, ...children) {
  const main = document.getElementById("main");
  main.replaceChildren();
  append(main, children);
  document.title = `${title} · avp console`;
  return main;
}

export function focusHeading() {
  const heading = document.querySelector("main h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}


export function when(value) {
  if (!value) return "";
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

export const percent = (p) => `${Math.round((p || 0) * 100)}%`;

export function errorText(error) {
  if (error && typeof error.detail === "object" && error.detail) {
    return Object.entries(error.detail).map(([k, v]) => `${k}: ${[].concat(v).join(", ")}`).join("; ");
  }
  return error?.detail || error?.message || String(error);
}
