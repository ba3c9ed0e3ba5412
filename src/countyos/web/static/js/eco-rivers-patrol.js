// The chief's phone page (巡河/巡林): start a patrol, record the GPS track with watchPosition, keep
// the points in localStorage while offline and send them in batches when online, report problems
// with a photo, finish. Talks to /api/v1/eco; the session's CSRF token is on <body data-csrf>.
(function () {
  "use strict";
  const root = document.getElementById("rv-phone");
  if (!root) return;
  const API = "/api/v1/eco";
  const L = JSON.parse(root.dataset.labels || "{}");
  const BATCH = parseInt(root.dataset.batch || "500", 10);
  const MAX_POINTS = parseInt(root.dataset.maxPoints || "20000", 10);
  const csrf = document.body.dataset.csrf || "";
  const live = document.getElementById("rv-live");
  const mine = document.getElementById("rv-mine");
  const $ = (id) => document.getElementById(id);
  let watch = null;
  let sending = false;

  const load = () => { try { return JSON.parse(localStorage.getItem("rv-patrol") || "null"); } catch (e) { return null; } };
  const save = (s) => localStorage.setItem("rv-patrol", JSON.stringify(s));
  const queueKey = (id) => `rv-queue-${id}`;
  const queue = (id) => { try { return JSON.parse(localStorage.getItem(queueKey(id)) || "[]"); } catch (e) { return []; } };
  const setQueue = (id, q) => localStorage.setItem(queueKey(id), JSON.stringify(q));

  function say(text) { $("rv-state").textContent = text; }

  async function api(path, options) {
    const headers = { "X-CSRF-Token": csrf, ...(options && options.json ? { "Content-Type": "application/json" } : {}) };
    const r = await fetch(API + path, { method: "POST", credentials: "same-origin", headers,
      body: options && options.json ? JSON.stringify(options.json) : options && options.form });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.detail || body.title || `HTTP ${r.status}`);
    return body;
  }

  function haversine(a, b) {
    const R = 6371008.8, toRad = Math.PI / 180;
    const dLat = (b[1] - a[1]) * toRad, dLon = (b[0] - a[0]) * toRad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * toRad) * Math.cos(b[1] * toRad) * Math.sin(dLon / 2) ** 2;
    return 2 * R * Math.asin(Math.sqrt(h));
  }

  function show(s) {
    live.classList.remove("hidden");
    mine.classList.add("hidden");
    live.dataset.patrol = String(s.id);
    if (s.name) $("rv-live-title").textContent = `${L.started} · ${s.name}`;
    $("rv-count").textContent = String(s.seq);
    $("rv-dist").textContent = String(Math.round(s.dist || 0));
    const waiting = queue(s.id).length;
    say(waiting ? `${waiting} ${L.queued}` : "");
  }

  async function flush() {
    const s = load();
    if (!s || sending || !navigator.onLine) return;
    sending = true;
    try {
      let q = queue(s.id);
      while (q.length) {
        const batch = q.slice(0, BATCH);
        await api(`/patrols/${s.id}/track`, { json: { points: batch } });
        q = queue(s.id).slice(batch.length);
        setQueue(s.id, q);
      }
      say("");
    } catch (e) {
      say(navigator.onLine ? `${L.error}: ${e.message}` : L.offline);
    } finally {
      sending = false;
    }
  }

  function onPosition(pos) {
    const s = load();
    if (!s || s.seq >= MAX_POINTS) return;
    const p = [pos.coords.longitude, pos.coords.latitude];
    if (s.last) s.dist = (s.dist || 0) + haversine(s.last, p);
    s.last = p;
    const q = queue(s.id);
    q.push({ seq: s.seq, at: new Date(pos.timestamp || Date.now()).toISOString(), lon: p[0], lat: p[1],
      accuracy_m: pos.coords.accuracy != null ? Math.min(pos.coords.accuracy, 100000) : null });
    s.seq += 1;
    setQueue(s.id, q);
    save(s);
    show(s);
    if (q.length >= 10) flush();
  }

  function track() {
    if (!navigator.geolocation) { say(L.no_gps); return; }
    if (watch !== null) return;
    watch = navigator.geolocation.watchPosition(onPosition, () => say(L.no_gps),
      { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
  }

  document.querySelectorAll(".rv-start").forEach((b) => b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      const p = await api("/patrols", { json: { chief_id: parseInt(b.dataset.chief, 10) } });
      const s = { id: p.id, name: b.dataset.name, seq: 0, dist: 0, last: null };
      save(s);
      setQueue(s.id, []);
      show(s);
      track();
    } catch (e) {
      b.disabled = false;
      alert(`${L.error}: ${e.message}`);
    }
  }));

  $("rv-problem").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const s = load();
    if (!s) return;
    const f = new FormData(ev.target);
    const here = s.last;
    if (!here) { $("rv-problem-result").textContent = L.no_gps; return; }
    f.set("lon", String(here[0]));
    f.set("lat", String(here[1]));
    f.set("key", `p${s.id}-${Date.now()}`);
    const photo = f.get("photo");
    if (photo && !photo.size) f.delete("photo");
    try {
      const r = await api(`/patrols/${s.id}/problems`, { form: f });
      $("rv-problem-result").textContent = `${L.sent} ${r.case_number || ""}`;
      ev.target.reset();
    } catch (e) {
      $("rv-problem-result").textContent = `${L.error}: ${e.message}`;
    }
  });

  $("rv-finish").addEventListener("click", async () => {
    const s = load();
    if (!s || !confirm(L.confirm_finish)) return;
    await flush();
    if (queue(s.id).length) return; // still offline: keep everything, try again later
    try {
      const p = await api(`/patrols/${s.id}/finish`, { json: {} });
      if (watch !== null) navigator.geolocation.clearWatch(watch);
      localStorage.removeItem(queueKey(s.id));
      localStorage.removeItem("rv-patrol");
      alert(p.flagged ? L.flagged : `${L.finished} · ${Math.round(p.length_m)} ${L.metres}`);
      window.location.reload();
    } catch (e) {
      say(`${L.error}: ${e.message}`);
    }
  });

  window.addEventListener("online", flush);
  setInterval(flush, 15000);

  // resume: a patrol under way on this phone, or one the server knows of
  let s = load();
  const serverId = parseInt(live.dataset.patrol || "0", 10);
  if (!s && serverId) { s = { id: serverId, name: "", seq: parseInt($("rv-count").textContent, 10) || 0, dist: 0, last: null }; save(s); }
  if (s && serverId && s.id !== serverId) { s = null; }
  if (s) { show(s); track(); flush(); }
})();
