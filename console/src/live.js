// Live job status: Firestore listeners on job_status/{job_id}, set up with what
// GET /api/v1/ws/status returns. Against the emulator the grant's token is the unsigned mock
// token the emulator reads; in the cloud it is a Firebase custom token traded through Firebase
// Auth. No polling: every change arrives as a snapshot. The grant is renewed before it expires.
import { deleteApp, initializeApp } from "firebase/app";
import { collection, connectFirestoreEmulator, doc, getFirestore, onSnapshot, query, where } from "firebase/firestore";

let instance = 0;

export class StatusChannel {
  constructor(api, firebaseConfig) {
    this.api = api;
    this.firebaseConfig = firebaseConfig || {};
    this.app = null;
    this.db = null;
    this.collection = "job_status";
    this.watchers = new Map(); // job_id -> {callbacks:Set, unsubscribe}
    this.fresh = new Set(); // {since, callback, unsubscribe}: listeners for jobs made since a moment
    this.keys = null;
    this.renewTimer = null;
    this.connecting = null;
  }

  async _connect() {
    const grant = await this.api.get("/ws/status");
    const app = initializeApp({ ...this.firebaseConfig, projectId: grant.project_id }, `avp-status-${++instance}`);
    const db = getFirestore(app);
    if (grant.mode === "emulator") {
      const [host, port] = grant.emulator_host.split(":");
      connectFirestoreEmulator(db, host, Number(port), { mockUserToken: grant.custom_token });
    } else {
      const { getAuth, signInWithCustomToken } = await import("firebase/auth");
      await signInWithCustomToken(getAuth(app), grant.custom_token);
    }
    const old = this.app;
    this.app = app;
    this.db = db;
    this.collection = grant.collection;
    this.keys = grant.keys;
    for (const [jobId, w] of this.watchers) this._listen(jobId, w);
    for (const f of this.fresh) this._listenFresh(f);
    if (old) deleteApp(old).catch(() => {});
    clearTimeout(this.renewTimer);
    const ms = Math.max(30_000, new Date(grant.expires_at).getTime() - Date.now() - 120_000);
    this.renewTimer = setTimeout(() => { this.connecting = this._connect().catch(() => {}); }, ms);
  }

  ready() {
    if (!this.connecting) this.connecting = this._connect();
    return this.connecting;
  }

  _listen(jobId, w) {
    if (w.unsubscribe) w.unsubscribe();
    w.unsubscribe = onSnapshot(doc(this.db, this.collection, jobId), (snap) => {
      if (!snap.exists()) return;
      const data = snap.data();
      const updated = data.updated_at && typeof data.updated_at.toDate === "function" ? data.updated_at.toDate() : data.updated_at;
      for (const cb of w.callbacks) cb({ ...data, updated_at: updated });
    }, (error) => console.warn(`status listener for ${jobId}:`, error.message));
  }

  _listenFresh(f) {
    if (f.unsubscribe) f.unsubscribe();
    f.unsubscribe = null;
    // The token's keys name what it may read; an administrator's token has none and reads all.
    if (Array.isArray(this.keys) && !this.keys.length) return;
    const filters = [where("created_at", ">=", f.since)];
    if (Array.isArray(this.keys)) filters.unshift(where("access_keys", "array-contains-any", this.keys));
    f.unsubscribe = onSnapshot(query(collection(this.db, this.collection), ...filters), (snap) => {
      for (const change of snap.docChanges()) {
        if (change.type !== "added") continue;
        const data = change.doc.data();
        const updated = data.updated_at && typeof data.updated_at.toDate === "function" ? data.updated_at.toDate() : data.updated_at;
        f.callback({ ...data, id: change.doc.id, updated_at: updated });
      }
    }, (error) => console.warn("listener for new jobs:", error.message));
  }

  /** Call `callback(statusDoc)` for each job made since `since` (a Date) that the caller may see,
   * as it appears: one listener on the status documents, no polling. Returns a function that stops it. */
  async watchNew(since, callback) {
    await this.ready();
    const f = { since, callback, unsubscribe: null };
    this.fresh.add(f);
    this._listenFresh(f);
    return () => {
      if (f.unsubscribe) f.unsubscribe();
      this.fresh.delete(f);
    };
  }

  /** Call `callback(statusDoc)` on every change of the job's status; returns a function that stops it. */
  async watch(jobId, callback) {
    await this.ready();
    let w = this.watchers.get(jobId);
    if (!w) {
      w = { callbacks: new Set(), unsubscribe: null };
      this.watchers.set(jobId, w);
      this._listen(jobId, w);
    }
    w.callbacks.add(callback);
    return () => {
      w.callbacks.delete(callback);
      if (!w.callbacks.size) {
        if (w.unsubscribe) w.unsubscribe();
        this.watchers.delete(jobId);
      }
    };
  }

  close() {
    clearTimeout(this.renewTimer);
    for (const w of this.watchers.values()) if (w.unsubscribe) w.unsubscribe();
    this.watchers.clear();
    for (const f of this.fresh) if (f.unsubscribe) f.unsubscribe();
    this.fresh.clear();
    if (this.app) deleteApp(this.app).catch(() => {});
    this.app = null;
    this.connecting = null;
  }
}
