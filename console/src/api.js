// The API client: the access token lives in memory only; the refresh secret is the HttpOnly
// cookie the API sets (path /api/v1/auth), traded for a new access token before this one expires
// and again when a request answers 401.

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
  }
}

export class Api {
  constructor(baseUrl) {
    this.base = `${(baseUrl || "").replace(/\/$/, "")}/api/v1`;
    this.token = null;
    this.user = null;
    this.onSignedOut = () => {};
    this._refreshTimer = null;
    this._refreshing = null;
  }

  async _fetch(method, path, { json, query, accept, retry = true } = {}) {
    const url = new URL(this.base + path, window.location.href);
    for (const [k, v] of Object.entries(query || {})) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
    }
    const headers = { Accept: accept || "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch(url, { method, headers, credentials: "include",
      body: json === undefined ? undefined : JSON.stringify(json) });
    if (resp.status === 401 && retry && this.token && (await this.refresh())) {
      return this._fetch(method, path, { json, query, accept, retry: false });
    }
    if (!resp.ok) {
      let detail = resp.statusText;
      try { detail = (await resp.json()).detail ?? detail; } catch { /* not JSON */ }
      if (resp.status === 401 && this.token) this._signedOut();
      throw new ApiError(resp.status, detail);
    }
    return resp;
  }

  async request(method, path, options = {}) {
    const resp = await this._fetch(method, path, options);
    if (resp.status === 204) return null;
    return options.accept && options.accept !== "application/json" ? resp.text() : resp.json();
  }

  get(path, query) { return this.request("GET", path, { query }); }
  post(path, json) { return this.request("POST", path, { json: json ?? {} }); }
  patch(path, json) { return this.request("PATCH", path, { json }); }

  _session(body) {
    this.token = body.access_token;
    this.user = body.user;
    clearTimeout(this._refreshTimer);
    // Refresh a minute before the access token runs out (expires_in is in seconds).
    const ms = Math.max(10, (body.expires_in || 900) - 60) * 1000;
    this._refreshTimer = setTimeout(() => this.refresh(), ms);
    return body.user;
  }

  async signIn(email, password) {
    return this._session(await this.request("POST", "/auth/login", { json: { email, password }, retry: false }));
  }

  async signInMicrosoft(idToken) {
    return this._session(await this.request("POST", "/auth/microsoft", { json: { id_token: idToken }, retry: false }));
  }

  /** Trade the refresh cookie for a new access token; false when there is no valid session. */
  refresh() {
    if (!this._refreshing) {
      this._refreshing = (async () => {
        try {
          const resp = await fetch(`${this.base}/auth/refresh`, { method: "POST", credentials: "include",
            headers: { Accept: "application/json" } });
          if (!resp.ok) return false;
          this._session(await resp.json());
          return true;
        } catch {
          return false;
        } finally {
          this._refreshing = null;
        }
      })();
    }
    return this._refreshing;
  }

  async signOut() {
    try {
      if (this.token) await this.request("POST", "/auth/logout", { retry: false });
    } finally {
      this._signedOut();
    }
  }

  _signedOut() {
    clearTimeout(this._refreshTimer);
    const had = this.token !== null;
    this.token = null;
    this.user = null;
    if (had) this.onSignedOut();
  }
}
