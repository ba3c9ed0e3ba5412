// Operations view (ioc): indicator tiles, map layers, trends, rankings and the live feed.
// Every number, chart point, ranking row and map feature links to the list of the records it counts
// (/ioc/list?…, built by the server). Data from /api/v1/ioc/* and geo's collections; live events from
// /api/v1/ioc/stream (server-sent events; the browser reconnects by itself). No inline scripts (CSP).
import { basemapConfig, createMap, maplibregl } from "/static/js/basemap.js";

const root = document.getElementById("ioc");
const L = JSON.parse(root?.dataset.labels || "{}");
const QUERY = root?.dataset.query || "";
const WALL = root?.dataset.wall === "1";
const TZ = root?.dataset.tz || "Asia/Shanghai";
const CLOCK_PARTS = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

// Times read the same before and after a live update, in the county's time zone: 2026-12-02 14:05.
function countyTime(when, withDate = true) {
  const p = Object.fromEntries(CLOCK_PARTS.formatToParts(new Date(when)).map((x) => [x.type, x.value]));
  const time = `${p.hour}:${p.minute}`;
  return withDate ? `${p.year}-${p.month}-${p.day} ${time}` : time;
}
const API = "/api/v1/ioc";
const FONT = ["Noto Sans CJK SC"];
const STEP_COLORS = {
  accept: "#64748b", verify: "#0891b2", register: "#7c3aed", dispatch: "#2563eb",
  handle: "#0d9488", check: "#ca8a04", close: "#16a34a", "": "#94a3b8",
};
const LEVEL_RING = { red: "#dc2626", yellow: "#f59e0b", green: "#ffffff", paused: "#64748b" };
const HEALTH = { online: "#16a34a", offline: "#6b7280", unknown: "#cbd5e1" };
const SEVERITY = { critical: "#b91c1c", major: "#ea580c", minor: "#ca8a04", warning: "#2563eb" };
const COMPONENT = { intact: "#16a34a", damaged: "#f59e0b", lost: "#dc2626", abandoned: "#6b7280", removed: "#94a3b8" };

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
const t = (k) => L[k] || k;
const pct = (v) => (v === null || v === undefined ? "—" : `${Number(v).toFixed(1)}%`);

async function getJSON(url) {
  const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

let BM = null;  // the base layer (basemap.js): points() and fromMap() follow the tiles' coordinate system

async function fetchAll(collection) {
  const crs = (await basemapConfig()).crs === "gcj02" ? "&crs=gcj02" : "";
  let url = `/api/v1/geo/collections/${collection}/items?limit=10000${crs}`;
  const features = [];
  while (url) {
    const body = await getJSON(url);
    features.push(...body.features);
    const next = (body.links || []).find((l) => l.rel === "next");
    url = next ? next.href : null;
  }
  return { type: "FeatureCollection", features };
}

// --- tiles -------------------------------------------------------------------------------------
async function refreshTiles() {
  const data = await getJSON(`${API}/indicators?${QUERY}`);
  for (const tile of data.tiles) {
    const a = document.getElementById(`tile-${tile.code}`);
    if (!a) continue;
    a.href = tile.url;
    const value = a.querySelector("[data-value]");
    const sub = a.querySelector("[data-sub]");
    if (tile.whole !== null) {
      value.textContent = pct(tile.rate);
      sub.textContent = `${tile.count} / ${tile.whole}`;
    } else {
      value.textContent = String(tile.count);
    }
    a.classList.toggle("negative", tile.negative && tile.count > 0);
  }
  const clock = document.getElementById("ioc-clock");
  if (clock) clock.textContent = countyTime(data.at);
}

// --- charts ------------------------------------------------------------------------------------
const charts = {};
function chart(id) {
  const el = document.getElementById(id);
  if (!el || !window.echarts) return null;
  if (!charts[id]) {
    charts[id] = window.echarts.init(el, WALL ? "dark" : null, { renderer: "canvas" });
    window.addEventListener("resize", () => charts[id].resize());
  }
  return charts[id];
}

async function refreshTrends() {
  const data = await getJSON(`${API}/trends?${QUERY}`);
  const c = chart("ioc-chart-cases");
  document.getElementById("ioc-cases-total").textContent = `(${data.cases.total})`;
  document.getElementById("ioc-alarms-total").textContent = `(${data.alarms.total})`;
  if (c) {
    c.setOption({
      animation: false,
      backgroundColor: "transparent",
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: data.cases.days.map((d) => d.slice(5)) },
      yAxis: { type: "value", minInterval: 1 },
      series: data.cases.series.map((s) => ({ name: s.name, type: "bar", stack: "cases", data: s.data, urls: s.urls })),
    }, true);
    c.off("click");
    c.on("click", (p) => {
      const url = data.cases.series[p.seriesIndex]?.urls[p.dataIndex];
      if (url) window.location.href = url;
    });
    c.getDom().dataset.points = JSON.stringify(data.cases.series.map((s) => s.urls));
  }
  const a = chart("ioc-chart-alarms");
  if (a) {
    a.setOption({
      animation: false,
      backgroundColor: "transparent",
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      xAxis: { type: "category", data: data.alarms.labels.map((l) => (data.alarms.hourly ? l.slice(5) + ":00" : l.slice(5))) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: t("alarms"), type: "bar", data: data.alarms.data, itemStyle: { color: "#ea580c" } }],
    }, true);
    a.off("click");
    a.on("click", (p) => { const url = data.alarms.urls[p.dataIndex]; if (url) window.location.href = url; });
  }
}

// --- rankings ----------------------------------------------------------------------------------
async function refreshRankings() {
  const data = await getJSON(`${API}/rankings?${QUERY}`);
  for (const subject of ["department", "township"]) {
    const body = document.querySelector(`#ioc-rank-${subject} tbody`);
    if (!body) continue;
    const rows = data[subject];
    body.innerHTML = rows.length ? "" : `<tr><td colspan="8" class="muted">${esc(t("no_data"))}</td></tr>`;
    rows.forEach((r, i) => {
      const tr = document.createElement("tr");
      tr.className = "ioc-rank-row";
      tr.dataset.url = r.url;
      tr.innerHTML = `<td>${i + 1}</td><td><a href="${esc(r.url)}">${esc(r.name)}</a></td><td class="num">${r.reported}</td>` +
        `<td class="num">${pct(r.closure_rate)}</td><td class="num">${pct(r.on_time_rate)}</td><td class="num">${pct(r.satisfaction_rate)}</td>` +
        `<td class="num">${r.score === null ? "—" : r.score.toFixed(2)}</td><td><span class="grade grade-${esc(r.grade || "none")}">${esc(r.grade || "—")}</span></td>`;
      tr.addEventListener("click", (e) => { if (e.target.tagName !== "A") window.location.href = r.url; });
      body.appendChild(tr);
    });
  }
}

// --- map ---------------------------------------------------------------------------------------
let map = null;
const geom = { grids: null };
const layerIds = {
  grids: ["ioc-grids-fill", "ioc-grids-line"],
  cases: ["ioc-cases"],
  devices: ["ioc-devices-halo", "ioc-devices"],
  components: ["ioc-components"],
};

function emptyFC() { return { type: "FeatureCollection", features: [] }; }

async function setupMap() {
  const el = document.getElementById("ioc-map");
  if (!el) return;
  const counties = await fetchAll("counties").catch(() => emptyFC());
  // village boundaries and the base layer from basemap.js (fitted to the county); county, townships
  // and grids are drawn here, coloured by their cases
  BM = await createMap(el, { boundaries: ["villages"], dark: WALL, padding: 16 });
  map = BM.map;
  window.countyosIocMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  await new Promise((resolve) => map.on("load", resolve));
  const [townships, grids] = await Promise.all([fetchAll("townships").catch(() => emptyFC()), fetchAll("grids").catch(() => emptyFC())]);
  geom.grids = grids;
  map.addSource("county", { type: "geojson", data: counties });
  map.addSource("townships", { type: "geojson", data: townships });
  map.addSource("grids", { type: "geojson", data: grids });
  map.addSource("cases", { type: "geojson", data: emptyFC() });
  map.addSource("devices", { type: "geojson", data: emptyFC() });
  map.addSource("components", { type: "geojson", data: emptyFC() });
  const ink = WALL ? "#cbd5e1" : "#0b3b75";
  map.addLayer({ id: "ioc-grids-fill", type: "fill", source: "grids", paint: {
    "fill-color": ["case", [">", ["coalesce", ["get", "overdue"], 0], 0], "#dc2626",
      [">", ["coalesce", ["get", "open"], 0], 0], "#f59e0b", WALL ? "#1e293b" : "#ffffff"],
    "fill-opacity": ["case", [">", ["coalesce", ["get", "overdue"], 0], 0],
      ["min", 0.9, ["+", 0.55, ["*", 0.1, ["get", "overdue"]]]],
      [">", ["coalesce", ["get", "open"], 0], 0], ["min", 0.8, ["+", 0.4, ["*", 0.1, ["get", "open"]]]], 0.05] } });
  map.addLayer({ id: "ioc-grids-line", type: "line", source: "grids", minzoom: 10, paint: { "line-color": "#94a3b8", "line-width": 0.4 } });
  map.addLayer({ id: "ioc-townships-line", type: "line", source: "townships", paint: { "line-color": ink, "line-width": 1.4 } });
  map.addLayer({ id: "ioc-county-line", type: "line", source: "county", paint: { "line-color": WALL ? "#e2e8f0" : "#111827", "line-width": 2.2 } });
  map.addLayer({ id: "ioc-townships-label", type: "symbol", source: "townships",
    layout: { "text-field": ["get", "name"], "text-font": FONT, "text-size": WALL ? 15 : 12,
      visibility: BM.config.labelled ? "none" : "visible" },  // the tiles carry the names
    paint: { "text-color": ink, "text-halo-color": WALL ? "#0f172a" : "#ffffff", "text-halo-width": 1.5 } });
  map.addLayer({ id: "ioc-components", type: "circle", source: "components", minzoom: 9, layout: { visibility: "none" }, paint: {
    "circle-radius": 3, "circle-color": ["match", ["get", "status"], ...Object.entries(COMPONENT).flat(), "#94a3b8"],
    "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.5 } });
  map.addLayer({ id: "ioc-cases", type: "circle", source: "cases", paint: {
    "circle-radius": ["match", ["get", "priority"], "critical", 9, "urgent", 7, 5],
    "circle-color": ["match", ["get", "step"], ...Object.entries(STEP_COLORS).flat(), "#94a3b8"],
    "circle-stroke-color": ["match", ["get", "level"], ...Object.entries(LEVEL_RING).flat(), "#ffffff"],
    "circle-stroke-width": ["match", ["get", "level"], "red", 3, "yellow", 2.5, 1] } });
  map.addLayer({ id: "ioc-devices-halo", type: "circle", source: "devices", filter: ["!=", ["get", "alarm"], ""], paint: {
    "circle-radius": 13, "circle-color": ["match", ["get", "alarm"], ...Object.entries(SEVERITY).flat(), "#ea580c"], "circle-opacity": 0.35 } });
  map.addLayer({ id: "ioc-devices", type: "circle", source: "devices", paint: {
    "circle-radius": 6, "circle-color": ["match", ["get", "health"], ...Object.entries(HEALTH).flat(), "#cbd5e1"],
    "circle-stroke-color": ["match", ["get", "alarm"], ...Object.entries(SEVERITY).flat(), "#ffffff"], "circle-stroke-width": 2 } });
  for (const id of ["ioc-cases", "ioc-devices", "ioc-components", "ioc-grids-fill"]) {
    map.on("mouseenter", id, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", id, () => { map.getCanvas().style.cursor = ""; });
  }
  map.on("click", showDetails);
  document.getElementById("ioc-layers")?.addEventListener("change", (e) => {
    const ids = layerIds[e.target.dataset.layer];
    if (!ids) return;
    for (const id of ids) map.setLayoutProperty(id, "visibility", e.target.checked ? "visible" : "none");
    if (e.target.dataset.layer === "components" && e.target.checked) refreshComponents();
  });
  let moved = null;  // the case layer follows the visible box: re-read it when the map stops moving
  map.on("moveend", () => { clearTimeout(moved); moved = setTimeout(() => refreshCases().catch(() => {}), 250); });
  await refreshMap();
  map.once("idle", () => { el.dataset.ready = "1"; });
}

let componentStatus = {};
async function refreshComponents() {
  const data = await getJSON(`${API}/map/components?${QUERY}`);  // the scope's components, as points
  componentStatus = data.status;
  map.getSource("components").setData(BM.points({ type: "FeatureCollection", features: data.features }));
  document.getElementById("ioc-map").dataset.components = String(data.features.length);
}

// west,south,east,north of what the map shows: the server sends only the open cases inside it
function viewBox() {
  const b = map.getBounds();
  const [w, s] = BM.fromMap([b.getWest(), b.getSouth()]), [e, n] = BM.fromMap([b.getEast(), b.getNorth()]);
  const lon = (v) => Math.max(-180, Math.min(180, v)).toFixed(5), lat = (v) => Math.max(-90, Math.min(90, v)).toFixed(5);
  return [lon(w), lat(s), lon(e), lat(n)].join(",");
}

let casesSeq = 0;
async function refreshCases() {
  if (!map || !map.getSource("cases")) return;
  const seq = ++casesSeq;
  const cases = await getJSON(`${API}/map/cases?${QUERY}&bbox=${viewBox()}`);
  if (seq !== casesSeq) return;  // a later move asked again
  map.getSource("cases").setData(BM.points(cases));
  const note = document.getElementById("ioc-map-note");
  if (note) note.textContent = cases.total > cases.shown ? t("shown_of").replace("%(shown)s", cases.shown).replace("%(total)s", cases.total) : "";
  document.getElementById("ioc-map").dataset.cases = String(cases.features.length);
}

async function refreshMap() {
  if (!map) return;
  const [grids, , devices] = await Promise.all([
    getJSON(`${API}/map/grids?${QUERY}`), refreshCases(), getJSON(`${API}/map/devices?${QUERY}`),
  ]);
  if (geom.grids) {
    for (const f of geom.grids.features) {
      const c = grids.grids[f.properties.code];
      f.properties.open = c ? c.open : 0;
      f.properties.overdue = c ? c.overdue : 0;
      f.properties.url = c ? c.url : "";
      f.properties.overdue_url = c ? c.overdue_url : "";
    }
    map.getSource("grids").setData(geom.grids);
  }
  map.getSource("devices").setData(BM.points(devices));
  const el = document.getElementById("ioc-map");
  el.dataset.devices = String(devices.features.length);
  el.dataset.alarmed = String(devices.features.filter((f) => f.properties.alarm).length);
  if (map.getLayoutProperty("ioc-components", "visibility") === "visible") await refreshComponents();
}

function row(k, v) { return v === null || v === undefined || v === "" ? "" : `<dt>${esc(k)}</dt><dd>${v}</dd>`; }

function showDetails(e) {
  const body = document.getElementById("ioc-detail-body");
  const layers = ["ioc-cases", "ioc-devices", "ioc-components", "ioc-grids-fill"].filter((id) => map.getLayer(id) && map.getLayoutProperty(id, "visibility") !== "none");
  const hits = map.queryRenderedFeatures(e.point, { layers });
  if (!hits.length) return;
  let html = "<dl class='kv'>";
  for (const f of hits.slice(0, 4)) {
    const p = f.properties;
    if (f.layer.id === "ioc-cases") {
      html += `<dt><b>${esc(t("cases"))}</b></dt><dd><a href="${esc(p.url)}"><b>${esc(p.number)}</b> ${esc(p.title)}</a></dd>` +
        row(t("step"), esc(p.step)) + row(t("priority"), esc(t(p.priority))) + row(t("status"), `<span class="level ${esc(p.level)}"></span>${esc(p.state)}`);
    } else if (f.layer.id === "ioc-devices") {
      html += `<dt><b>${esc(t("device"))}</b></dt><dd><a href="${esc(p.device_url)}"><b>${esc(p.name)}</b></a></dd>` +
        row(t("health"), esc(t(p.health))) + row(t("alarm"), p.alarm ? esc(t(p.alarm)) : "") +
        `<dt></dt><dd><a href="${esc(p.url)}">${esc(t("active_alarms"))}</a></dd>`;
    } else if (f.layer.id === "ioc-components") {
      const st = componentStatus[p.status];
      html += `<dt><b>${esc(t("component"))}</b></dt><dd><b>${esc(p.name)}</b> <span class="mono">${esc(p.code)}</span></dd>` +
        row(t("status"), esc(p.status_name || t(p.status))) +
        (st ? `<dt></dt><dd><a href="${esc(st.url)}">${esc(t("same_status"))} (${st.count})</a></dd>` : "");
    } else if (f.layer.id === "ioc-grids-fill") {
      html += `<dt><b>${esc(t("grid"))}</b></dt><dd class="mono">${esc(p.code)}</dd>` +
        row(t("open"), p.url ? `<a href="${esc(p.url)}">${p.open}</a>` : "0") +
        row(t("overdue"), p.overdue ? `<a href="${esc(p.overdue_url)}">${p.overdue}</a>` : "0");
    }
  }
  body.classList.remove("muted");
  body.innerHTML = html + "</dl>";
}

// --- live --------------------------------------------------------------------------------------
let pending = null;
function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    try {
      await Promise.all([refreshTiles(), refreshMap(), refreshTrends(), refreshRankings()]);
      root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
    } catch (err) { console.warn(err); }
  }, 250);
}

function addToFeed(kind, ev) {
  const list = document.getElementById("ioc-feed");
  list.querySelector("[data-empty]")?.remove();
  const li = document.createElement("li");
  li.className = `ioc-feed-item ${kind}` + (ev.severity ? ` sev-${ev.severity}` : "") + (ev.priority && ev.priority !== "normal" ? " urgent" : "");
  const at = new Date(ev.at);
  li.innerHTML = `<span class="time">${esc(countyTime(at, false))}</span> <span class="kind">${esc(t(kind))}</span> ` +
    `<a href="${esc(ev.url)}">${esc(ev.title)}</a> <span class="muted">${esc(ev.ref)}${ev.township ? " · " + esc(ev.township) : ""}</span>`;
  list.prepend(li);
  while (list.children.length > 50) list.lastChild.remove();
}

// EventSource reconnects by itself after a network error (with Last-Event-ID), but gives up for good
// on an answer that is not a stream — a proxy's 502 or the server's 503 while it restarts. Then a new
// EventSource is opened here, resuming after the last event seen (?after=), with a growing pause.
let source = null;
let lastId = "";
let opened = false;
let pause = 2000;

function connect() {
  const status = document.getElementById("ioc-live");
  const setStatus = (ok) => {
    status.classList.toggle("on", ok);
    status.querySelector("[data-text]").textContent = ok ? t("connected") : t("reconnecting");
    root.dataset.live = ok ? "1" : "0";
  };
  source = new EventSource(`${API}/stream` + (lastId ? `?after=${encodeURIComponent(lastId)}` : ""));
  source.addEventListener("hello", (m) => {
    if (m.lastEventId) lastId = m.lastEventId;
    setStatus(true);
    pause = 2000;
    if (opened) scheduleRefresh();  // back after a break: what changed meanwhile, not only the feed
    opened = true;
  });
  // Away too long to replay what was missed: the server says so; re-read everything shown instead.
  source.addEventListener("reset", (m) => {
    if (m.lastEventId) lastId = m.lastEventId;
    scheduleRefresh();
  });
  source.onerror = () => {
    setStatus(false);
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(connect, pause);
      pause = Math.min(pause * 2, 30000);
    }
  };
  for (const kind of ["case_reported", "case_dispatched", "case_closed", "case_rework", "case_supervised",
    "alarm_raised", "alarm_acknowledged", "alarm_cleared"]) {
    source.addEventListener(kind, (m) => {
      if (m.lastEventId) lastId = m.lastEventId;
      const ev = JSON.parse(m.data);
      addToFeed(kind, ev);
      scheduleRefresh();
    });
  }
}

async function start() {
  if (!root) return;
  connect();
  await Promise.all([
    refreshTrends().catch((e) => console.warn(e)),
    refreshRankings().catch((e) => console.warn(e)),
    setupMap().catch((e) => { document.getElementById("ioc-detail-body").textContent = String(e); }),
  ]);
  root.dataset.ready = "1";
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
