// Live job status: Firestore listeners on job_status/{job_id}, set up with what
// GET /api/v1/ws/status returns. Against the emulator the grant's token is the unsigned mock
// token the emulator reads; in the cloud it is a Firebase custom token traded through Firebase
// Auth. No polling: every change arrives as a snapshot. The grant is renewed before it expires.
import { deleteApp, initializeApp } from "firebase/app";
import { connectFirestoreEmulator, doc, getFirestore, onSnapshot } from "firebase/firestore";

let instance = 0;

export class StatusChannel {
  constructor(api, firebaseConfig) {
    this.api = api;
    this.firebaseConfig = firebaseConfig || {};
    this.app = null;
    this.db = null;
    this.collection = "job_status";
    this.watchers = new Map(); // job_id -> {callbacks:Set, unsubscribe}
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
    for (const [jobId, w] of this.watchers) this._listen(jobId, w);
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
    if (this.app) deleteApp(this.app).catch(() => {});
    this.app = null;
    this.connecting = null;
  }
}
