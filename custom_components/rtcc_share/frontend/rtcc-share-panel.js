// The "City sharing" panel: a plain ES module web component (no build step, no imports).
// Home Assistant sets `hass` (and `narrow`); the state comes from the `rtcc_share/subscribe`
// websocket subscription, which pushes a snapshot on every change (nothing here polls).

const STATUS = {
  not_shared: "Not shared (consent off)",
  idle: "Ready to share",
  pending: "Request waiting",
  scheduled: "Share scheduled",
  live: "Live",
  blocked: "Blocked",
  unavailable: "Cannot be shared",
  unknown: "Unknown (gateway away)",
};

const esc = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function left(ms) {
  if (ms <= 0) return "now";
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : `${m}:${sec}`;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");
// A time of day in the viewer's own clock, 24-hour HH:MM.
const hhmm = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) : "—");
const VIA = { rtsp: "RTSP", mp4: "MP4", hls: "HLS" };

const CSS = `
:host { display: block; color: var(--primary-text-color); background: var(--primary-background-color);
  min-height: 100vh; font-family: var(--ha-font-family-body, var(--paper-font-body1_-_font-family, sans-serif)); }
header { display: flex; align-items: center; gap: 8px; height: var(--header-height, 56px); padding: 0 12px;
  background: var(--app-header-background-color, var(--primary-color)); color: var(--app-header-text-color, #fff); }
header h1 { font-size: 20px; font-weight: 400; margin: 0; }
main { max-width: 1000px; margin: 0 auto; padding: 12px; display: grid; gap: 16px;
  grid-template-columns: minmax(0, 1fr); } /* wide tables scroll inside their card, not the page */
section.card { background: var(--card-background-color, #fff); border-radius: var(--ha-card-border-radius, 12px);
  box-shadow: var(--ha-card-box-shadow, none); border: 1px solid var(--divider-color, #ddd); padding: 12px 16px; }
h2 { font-size: 18px; margin: 4px 0 8px; } h3 { font-size: 15px; margin: 12px 0 6px; }
ul { list-style: none; padding: 0; margin: 0; } li.row { display: flex; flex-wrap: wrap; align-items: center;
  gap: 8px; padding: 8px 0; border-top: 1px solid var(--divider-color, #ddd); }
li.row:first-child { border-top: none; } .grow { flex: 1 1 12em; min-width: 0; }
.muted { color: var(--secondary-text-color); font-size: 0.9em; }
.status { font-size: 0.85em; padding: 2px 8px; border-radius: 10px; background: var(--secondary-background-color, #eee); }
.status.live { background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
.status.pending, .status.blocked { background: var(--warning-color, #ffa600); color: var(--text-primary-color, #000); }
button { font: inherit; min-height: 36px; min-width: 44px; padding: 4px 14px; border-radius: 18px; cursor: pointer;
  border: 1px solid var(--primary-color); background: transparent; color: var(--primary-color); }
button.primary { background: var(--primary-color); color: var(--text-primary-color, #fff); }
button.danger { border-color: var(--error-color, #db4437); color: var(--error-color, #db4437); }
button:focus-visible { outline: 3px solid var(--accent-color, var(--primary-color)); outline-offset: 2px; }
button:disabled { opacity: 0.5; cursor: default; }
button[role="switch"] { min-width: 64px; } button[role="switch"][aria-checked="true"] { background: var(--primary-color); color: var(--text-primary-color, #fff); }
.request { border: 1px solid var(--divider-color, #ddd); border-radius: 8px; padding: 8px 12px; margin: 8px 0; }
.request dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; }
.request dt { color: var(--secondary-text-color); } .request dd { margin: 0; overflow-wrap: anywhere; }
td.muted { overflow-wrap: anywhere; min-width: 12em; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; }
.timer { font-variant-numeric: tabular-nums; font-weight: 500; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; } th, td { text-align: left; padding: 4px 6px;
  border-top: 1px solid var(--divider-color, #ddd); vertical-align: top; } .scroll { overflow-x: auto; }
.banner { padding: 8px 12px; border-radius: 8px; background: var(--secondary-background-color, #eee); }
.banner.error { background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
.ok { color: var(--success-color, #43a047); } .bad { color: var(--error-color, #db4437); }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 600px) { main { padding: 6px; } section.card { padding: 10px; } .request dl { grid-template-columns: 1fr; } }
`;

class RtccSharePanel extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._snapshot = null;
    this._offset = 0; // server clock minus ours
    this._error = "";
    this._announce = "";
    this._busy = new Set();
  }

  set hass(hass) {
    this._hass = hass;
    if (this._menu) this._menu.hass = hass;
    if (!this._unsub && !this._subscribing) this._subscribe();
  }

  set narrow(narrow) {
    this._narrow = narrow;
    if (this._menu) this._menu.narrow = narrow;
  }

  connectedCallback() {
    this._tick = setInterval(() => this._updateTimers(), 1000);
    if (this._hass && !this._unsub && !this._subscribing) this._subscribe();
    this._render();
  }

  disconnectedCallback() {
    clearInterval(this._tick);
    if (this._unsub) this._unsub.then((unsub) => unsub()).catch(() => {});
    this._unsub = null;
  }

  _subscribe() {
    this._subscribing = true;
    this._unsub = this._hass.connection.subscribeMessage((snapshot) => this._receive(snapshot), {
      type: "rtcc_share/subscribe",
    });
    this._unsub
      .catch((err) => {
        this._error = `Cannot read the sharing state: ${err.message || err.code || err}`;
        this._unsub = null;
        this._render();
      })
      .finally(() => {
        this._subscribing = false;
      });
  }

  _receive(snapshot) {
    const before = this._snapshot;
    this._snapshot = snapshot;
    this._offset = new Date(snapshot.now).getTime() - Date.now();
    this._announce = this._changes(before, snapshot);
    this._render();
  }

  // What changed, said once for screen readers (the aria-live region).
  _changes(before, after) {
    if (!before) return "";
    const count = (s, key) => s.gateways.reduce((n, g) => n + g[key].length, 0);
    const said = [];
    const p0 = count(before, "pending_requests"), p1 = count(after, "pending_requests");
    const l0 = count(before, "shares"), l1 = count(after, "shares");
    if (p1 > p0) said.push(`New city request: ${plural(p1, "request")} waiting`);
    if (l1 !== l0) said.push(`${plural(l1, "live share")}`);
    return said.join(". ");
  }

  async _send(key, message, done) {
    this._busy.add(key);
    this._error = "";
    this._render();
    try {
      await this._hass.connection.sendMessagePromise(message);
      this._announce = done;
    } catch (err) {
      this._error = err.message || String(err.code || err);
    } finally {
      this._busy.delete(key);
      this._render();
    }
  }

  _onClick(event) {
    const button = event.target.closest("button[data-act]");
    if (!button || button.disabled) return;
    const d = button.dataset;
    const entry_id = d.entry;
    const key = `${d.act}:${d.id || ""}:${d.camera || ""}`;
    const cams = d.camera ? { camera_ids: [d.camera] } : {};
    switch (d.act) {
      case "approve":
      case "deny":
        return this._send(key, { type: `rtcc_share/${d.act}`, entry_id, request_id: d.id, ...cams },
          d.act === "approve" ? "Approved" : "Denied");
      case "revoke":
        return this._send(key, { type: "rtcc_share/revoke", entry_id, share_id: d.id }, "Share ended");
      case "consent":
        return this._send(key, { type: "rtcc_share/set_consent", entry_id, camera_id: d.camera,
          consent: button.getAttribute("aria-checked") !== "true" }, "Consent changed");
      case "pause":
        return this._send(key, { type: "rtcc_share/pause", entry_id }, "Sharing paused");
      case "resume":
        return this._send(key, { type: "rtcc_share/resume", entry_id }, "Sharing resumed");
      case "export":
        return this._export(entry_id);
      default:
        return undefined;
    }
  }

  async _export(entry_id) {
    try {
      const result = await this._hass.connection.sendMessagePromise({ type: "rtcc_share/audit_export", entry_id });
      const lines = result.records.map((r) => JSON.stringify(r)).join("\n") + "\n";
      const url = URL.createObjectURL(new Blob([lines], { type: "application/x-ndjson" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = `rtcc-audit-${entry_id}.jsonl`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      this._announce = `Audit exported: ${plural(result.records.length, "record")}${result.truncated ? " (the first ones only)" : ""}`;
    } catch (err) {
      this._error = `Export failed: ${err.message || err.code || err}`;
    }
    this._render();
  }

  _updateTimers() {
    const now = Date.now() + this._offset;
    for (const el of this.shadowRoot.querySelectorAll("[data-deadline]")) {
      el.textContent = left(new Date(el.dataset.deadline).getTime() - now);
    }
  }

  _btn(act, entry, label, { id = "", camera = "", cls = "", aria = label, extra = "" } = {}) {
    const busy = this._busy.has(`${act}:${id}:${camera}`);
    return `<button type="button" class="${cls}" data-act="${act}" data-entry="${esc(entry)}" data-id="${esc(id)}"
      data-camera="${esc(camera)}" aria-label="${esc(aria)}" ${busy ? "disabled aria-busy=\"true\"" : ""} ${extra}>${esc(label)}</button>`;
  }

  _gateway(g) {
    const names = g.camera_names || {};
    const cam = (id) => names[id] || id;
    const e = g.entry_id;
    const cameras = g.cameras.map((c) => `
      <li class="row"><span class="grow"><strong>${esc(c.name)}</strong>
        ${c.entity_id ? `<span class="muted">${esc(c.entity_id)}</span>` : ""}
        ${c.reason ? `<br><span class="muted">${esc(c.reason)}</span>` : ""}
        ${c.blocked_reason ? `<br><span class="muted">Blocked: ${esc(c.blocked_reason)}</span>` : ""}</span>
        <span class="status ${esc(c.status)}">${esc(STATUS[c.status] || c.status)}</span>
        ${c.status === "live" ? `<span>${esc(plural(c.viewers, "viewer"))}</span>` : ""}
        ${this._btn("consent", e, c.consent ? "On" : "Off", { camera: c.camera_id, aria: `Consent to share ${c.name}`,
          extra: `role="switch" aria-checked="${c.consent}" ${!c.shareable && !c.consent ? "disabled" : ""}` })}
      </li>`).join("");
    const requests = g.pending_requests.map((r) => {
      const waiting = r.pending_camera_ids || r.camera_ids || [];
      const perCamera = waiting.map((id) => `
        <li class="row"><span class="grow">${esc(cam(id))}</span>
          ${this._btn("approve", e, "Approve", { id: r.request_id, camera: id, aria: `Approve ${cam(id)} for ${r.agency}` })}
          ${this._btn("deny", e, "Deny", { id: r.request_id, camera: id, cls: "danger", aria: `Deny ${cam(id)} for ${r.agency}` })}
        </li>`).join("");
      const minutes = r.duration_s ? Math.round(r.duration_s / 60) : null;
      return `<article class="request" aria-label="Request from ${esc(r.agency)}, incident ${esc(r.incident_id)}">
        <h3>${esc(r.agency)} asks to see ${esc(plural(waiting.length, "camera"))}</h3>
        <dl><dt>Incident</dt><dd>${esc(r.incident_id)}</dd><dt>Offense</dt><dd>${esc(r.offense)}</dd>
          <dt>Reason</dt><dd>${esc(r.reason)}</dd>
          <dt>Window</dt><dd>${r.start ? `from ${esc(when(r.start))}` : "from approval"}${minutes ? `, ${minutes} min` : ""}</dd>
          <dt>Decide within</dt><dd><span class="timer" role="timer" aria-label="Time left to decide"
            data-deadline="${esc(r.approve_by)}"></span> <span class="muted">(by ${esc(when(r.approve_by))})</span></dd></dl>
        <ul aria-label="Cameras asked for">${perCamera}</ul>
        <div class="actions">
          ${this._btn("approve", e, "Approve all", { id: r.request_id, cls: "primary", aria: `Approve every camera for ${r.agency}, incident ${r.incident_id}` })}
          ${this._btn("deny", e, "Deny all", { id: r.request_id, cls: "danger", aria: `Deny every camera for ${r.agency}, incident ${r.incident_id}` })}
        </div></article>`;
    }).join("");
    const shares = g.shares.map((s) => {
      // Each viewer now (gateway's viewers_now): since when and via which format.
      const now = Array.isArray(s.viewers_now) ? s.viewers_now : [];
      const viewers = Number(s.viewers ?? now.length) || 0;
      const detail = now.map((v) => `<span class="viewer">since ${esc(hhmm(v.connected_at))} via ${esc(VIA[v.via] || v.via || "?")}</span>`).join(", ");
      return `<li class="row"><span class="grow"><strong>${esc(cam(s.camera_id))}</strong>
          <span class="status ${esc(s.status)}">${esc(STATUS[s.status] || s.status)}</span><br>
          <span class="muted">${s.status === "live" ? "ends in" : "starts"}</span>
          <span class="timer" role="timer" aria-label="Time left" data-deadline="${esc(s.status === "live" ? s.ends_at : s.starts_at)}"></span>
          <span class="muted">(until ${esc(when(s.ends_at))})</span></span>
        <span class="viewers"><span class="count">${esc(plural(viewers, "viewer"))}</span>${detail ? ` <span class="muted">${detail}</span>` : ""}</span>
        ${this._btn("revoke", e, "Revoke", { id: s.share_id, cls: "danger", aria: `Revoke the share of ${cam(s.camera_id)}` })}
      </li>`;
    }).join("");
    const windows = [
      ...g.privacy_windows.map((w) => `${w.days.join(", ")}: from ${w.start} until ${w.end}`),
      ...(g.nightly.enabled ? [`Every night: from ${g.nightly.start} until ${g.nightly.end}`] : []),
    ];
    const a = g.audit || {};
    const audit = a.error ? `<p class="bad">${esc(a.error)}</p>` : `
      <p>Chain: <strong class="${a.ok ? "ok" : "bad"}">${a.ok ? "verified, intact" : `BROKEN at record ${esc(a.first_bad)}`}</strong>
        <span class="muted">${esc(plural(a.count || 0, "record"))}${a.head ? `, head ${esc(a.head.slice(0, 20))}…` : ""}</span></p>
      <div class="scroll"><table><thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">What</th><th scope="col">Detail</th></tr></thead>
      <tbody>${(a.records || []).map((r) => `<tr><td>${esc(r.seq)}</td><td>${esc(when(r.ts))}</td><td>${esc(r.kind)}</td>
        <td class="muted">${esc(Object.entries(r.detail || {}).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", "))}</td></tr>`).join("")}</tbody></table></div>`;
    const t = g.transparency || {};
    const transparency = t.error ? `<p class="bad">${esc(t.error)}</p>` : `<div class="scroll"><table>
      <thead><tr><th scope="col">Agency</th><th scope="col">Requests</th><th scope="col">Approved</th><th scope="col">Declined</th>
      <th scope="col">Minutes live</th><th scope="col">Minutes viewed</th><th scope="col">Viewers</th></tr></thead>
      <tbody>${(t.agencies || []).map((x) => `<tr><th scope="row">${esc(x.name)}</th><td>${esc(x.requests)}</td><td>${esc(x.approved)}</td>
        <td>${esc(x.declined)}</td><td>${esc(x.minutes_live)}</td><td>${esc(x.minutes_viewed)}</td><td>${esc(x.viewers)}</td></tr>`).join("")}</tbody></table></div>`;
    return `
      <section class="card" aria-labelledby="gw-${esc(e)}">
        <h2 id="gw-${esc(e)}">${esc(g.title)}</h2>
        ${g.connected ? "" : `<p class="banner error" role="status">The gateway cannot be reached now; it stops every share by itself when its lease ends.</p>`}
        <div class="row actions"><span class="grow">${g.paused
          ? `Sharing is <strong>paused</strong>${g.paused_until ? ` until ${esc(when(g.paused_until))}` : ""}.`
          : "Sharing is on for the cameras you consented to."}</span>
          ${g.paused ? this._btn("resume", e, "Resume sharing", { cls: "primary" }) : this._btn("pause", e, "Pause sharing", { cls: "danger" })}</div>
      </section>
      <section class="card" aria-labelledby="req-${esc(e)}"><h2 id="req-${esc(e)}">Requests waiting for you (${g.pending_requests.length})</h2>
        ${requests || `<p class="muted">No request is waiting.</p>`}</section>
      <section class="card" aria-labelledby="live-${esc(e)}"><h2 id="live-${esc(e)}">Live shares (${g.shares.length})</h2>
        ${shares ? `<ul>${shares}</ul>` : `<p class="muted">Nothing is shared now.</p>`}</section>
      <section class="card" aria-labelledby="cam-${esc(e)}"><h2 id="cam-${esc(e)}">Cameras</h2>
        ${cameras ? `<ul>${cameras}</ul>` : `<p class="muted">No camera yet.</p>`}</section>
      <section class="card" aria-labelledby="pri-${esc(e)}"><h2 id="pri-${esc(e)}">Privacy schedule</h2>
        ${windows.length ? `<ul>${windows.map((w) => `<li class="row">${esc(w)}</li>`).join("")}</ul>` : `<p class="muted">No privacy window.</p>`}</section>
      <section class="card" aria-labelledby="aud-${esc(e)}"><h2 id="aud-${esc(e)}">Audit log</h2>${audit}
        <div class="actions">${this._btn("export", e, "Export the audit log", { aria: "Export the whole audit log as a JSON lines file" })}</div></section>
      <section class="card" aria-labelledby="tra-${esc(e)}"><h2 id="tra-${esc(e)}">Transparency, per agency</h2>${transparency}</section>`;
  }

  _render() {
    const root = this.shadowRoot;
    if (!root.querySelector("main")) {
      root.innerHTML = `<style>${CSS}</style><header><span id="menu"></span><h1>City sharing</h1></header>
        <main></main><div class="sr" aria-live="polite" id="live"></div>`;
      root.addEventListener("click", (ev) => this._onClick(ev));
      if (customElements.get("ha-menu-button")) {
        this._menu = document.createElement("ha-menu-button");
        this._menu.hass = this._hass;
        this._menu.narrow = this._narrow;
        root.getElementById("menu").appendChild(this._menu);
      }
    }
    // Keep keyboard focus on the same control across a re-render.
    const focused = root.activeElement?.dataset;
    const focusKey = focused ? `${focused.act}|${focused.id}|${focused.camera}|${focused.entry}` : null;
    const s = this._snapshot;
    const body = !s ? `<p class="muted" role="status">Loading…</p>`
      : !s.gateways.length ? `<p class="banner" role="status">No RTCC Share gateway is loaded.</p>`
      : s.gateways.map((g) => this._gateway(g)).join("");
    root.querySelector("main").innerHTML =
      (this._error ? `<p class="banner error" role="alert">${esc(this._error)}</p>` : "") + body;
    if (this._announce) root.getElementById("live").textContent = this._announce;
    this._updateTimers();
    if (focusKey) {
      for (const b of root.querySelectorAll("button[data-act]")) {
        const d = b.dataset;
        if (`${d.act}|${d.id}|${d.camera}|${d.entry}` === focusKey) { b.focus(); break; }
      }
    }
  }
}

if (!customElements.get("rtcc-share-panel")) customElements.define("rtcc-share-panel", RtccSharePanel);
