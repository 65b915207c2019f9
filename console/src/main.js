// The console's entry: configuration, session, and a hash router (#/jobs, #/jobs/ID) so the
// site is plain static files wherever it is hosted.
import { Api } from "./api.js";
import { StatusChannel } from "./live.js";
import { jobsView } from "./jobs.js";
import { jobView } from "./job.js";
import { announce, errorText, field, focusHeading, h, setMain } from "./ui.js";

const state = { config: null, api: null, live: null, cleanup: null };

async function loadConfig() {
  const resp = await fetch("config.json", { cache: "no-store" });
  if (!resp.ok) throw new Error(`config.json: ${resp.status}`);
  return resp.json();
}

function microsoftUrl(ms) {
  const nonce = crypto.randomUUID();
  sessionStorage.setItem("avp-ms-nonce", nonce);
  const params = new URLSearchParams({ client_id: ms.client_id, response_type: "id_token", response_mode: "fragment",
    scope: "openid profile email", redirect_uri: window.location.origin + window.location.pathname, nonce });
  return `https://login.microsoftonline.com/${encodeURIComponent(ms.tenant || "organizations")}/oauth2/v2.0/authorize?${params}`;
}

function loginView(message) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const form = h("form", { class: "card", novalidate: true },
    field("Email", email), field("Password", password), error,
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!email.value || !password.value) {
      error.textContent = "Enter your email and password.";
      return;
    }
    try {
      await state.api.signIn(email.value.trim(), password.value);
      signedIn();
    } catch (e) {
      error.textContent = e.status === 401 ? "Wrong email or password." : errorText(e);
      password.select();
    }
  });
  const ms = state.config.microsoft;
  const extra = ms && ms.client_id
    ? h("p", {}, h("a", { class: "button secondary", href: microsoftUrl(ms) }, "Sign in with Microsoft"))
    : null;
  setMain("Sign in", h("div", { class: "login" }, h("h1", {}, "Sign in"), form, extra));
  document.getElementById("account").hidden = true;
  email.focus();
}

function signedIn() {
  const user = state.api.user;
  document.getElementById("who").textContent = `${user.display_name || user.email} (${user.role.replace("_", " ")})`;
  document.getElementById("account").hidden = false;
  state.live = new StatusChannel(state.api, state.config.firebase);
  if (!window.location.hash || window.location.hash === "#/") window.location.hash = "#/jobs";
  else route();
}

function signedOut(message) {
  if (state.live) state.live.close();
  state.live = null;
  loginView(message);
}

async function route() {
  if (!state.api.user) return;
  if (state.cleanup) state.cleanup();
  state.cleanup = null;
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const ctx = { api: state.api, live: state.live, config: state.config };
  try {
    if (parts[0] === "jobs" && parts[1]) state.cleanup = await jobView(ctx, parts[1], parts[2]);
    else state.cleanup = await jobsView(ctx);
  } catch (e) {
    setMain("Error", h("h1", {}, "Something went wrong"), h("p", { class: "error", role: "alert" }, errorText(e)),
      h("p", {}, h("a", { href: "#/jobs" }, "Back to jobs")));
  }
  focusHeading();
}

async function start() {
  state.config = await loadConfig();
  state.api = new Api(state.config.api_base_url);
  state.api.onSignedOut = () => signedOut("Your session ended. Sign in again.");
  document.getElementById("sign-out").addEventListener("click", async () => {
    await state.api.signOut().catch(() => {});
    signedOut();
    announce("Signed out");
  });
  window.addEventListener("hashchange", route);
  // The skip link must not change the hash: the hash is the route.
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  });

  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  if (fragment.get("id_token")) {
    history.replaceState(null, "", window.location.pathname + "#/jobs");
    try {
      await state.api.signInMicrosoft(fragment.get("id_token"));
      return signedIn();
    } catch (e) {
      return loginView(errorText(e));
    }
  }
  // A refresh cookie from an earlier visit restores the session without asking again.
  if (await state.api.refresh()) return signedIn();
  loginView();
}

start().catch((e) => setMain("Error", h("h1", {}, "The console could not start"), h("p", { class: "error" }, String(e))));
