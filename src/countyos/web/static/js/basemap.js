// One base layer for every map: the tiles CountyOS serves (/api/v1/geo/basemap says which: a local
// MBTiles file, the county's tile server or 天地图 through the server, or none) and the county,
// township, village and grid boundaries drawn over them from /api/v1/geo/collections. Nothing is
// fetched from another origin. Tiles drawn in GCJ-02 (高德/腾讯) get every overlay shifted to match:
// maps pass their own points through toMap() and read clicks back with fromMap().
import * as maplibregl from "/static/vendor/maplibre-gl.mjs";

export { maplibregl };

const API = "/api/v1/geo";
export const FONT = ["Noto Sans CJK SC"];
export const LOCAL_FONTS = "'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";
export const ALL_BOUNDARIES = ["county", "townships", "villages", "grids"];

let configPromise = null;
let glyphs = false;

/** The base layer configuration (fetched once per page). */
export function basemapConfig() {
  if (!configPromise) {
    configPromise = fetch(`${API}/basemap`, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null)
      .then((cfg) => cfg || { source: "none", tiles: null, crs: "cgcs2000", min_zoom: 0, max_zoom: 22, attribution: "",
        bounds: null, county_bbox: null, overlays: false, labels: {} });
  }
  return configPromise;
}

// Glyphs are drawn by the browser from its own CJK font: the glyph "server" always declines and
// MapLibre renders every character locally.
function registerGlyphs() {
  if (glyphs) return;
  maplibregl.addProtocol("countyos-glyphs", async () => { throw new Error("local glyphs only"); });
  glyphs = true;
}

// --- GCJ-02 (the same formulas as geo.service.crs) ---------------------------------------------
const A = 6378245.0, EE = 0.00669342162296594323;
function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
function tLat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
  r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  return r;
}
function tLon(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
  r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  return r;
}
export function wgsToGcj(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
  const rad = lat / 180 * Math.PI;
  let magic = Math.sin(rad);
  magic = 1 - EE * magic * magic;
  const sq = Math.sqrt(magic);
  dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
  dLon = (dLon * 180) / (A / sq * Math.cos(rad) * Math.PI);
  return [lon + dLon, lat + dLat];
}
export function gcjToWgs(lon, lat) {
  let x = lon, y = lat;
  for (let i = 0; i < 8; i++) {  // fixed point: converges to < 1 mm
    const [gx, gy] = wgsToGcj(x, y);
    x -= gx - lon; y -= gy - lat;
  }
  return [x, y];
}

function converters(crs) {
  if (crs === "gcj02") {
    return { toMap: ([x, y]) => wgsToGcj(x, y), fromMap: ([x, y]) => gcjToWgs(x, y) };
  }
  return { toMap: (p) => [p[0], p[1]], fromMap: (p) => [p[0], p[1]] };
}

/** Point features (WGS-84/CGCS2000) moved into the map's coordinate system. */
function pointsToMap(fc, toMap) {
  return { ...fc, features: fc.features.map((f) => (f.geometry && f.geometry.type === "Point"
    ? { ...f, geometry: { type: "Point", coordinates: toMap(f.geometry.coordinates) } } : f)) };
}

export async function fetchCollection(collection, crs = "cgcs2000") {
  // Follow the OGC "next" links until every feature of the collection is loaded.
  const suffix = crs === "gcj02" ? "&crs=gcj02" : "";
  let url = `${API}/collections/${collection}/items?limit=10000${suffix}`;
  const features = [];
  while (url) {
    const r = await fetch(url, { headers: { Accept: "application/geo+json" }, credentials: "same-origin" });
    if (!r.ok) throw new Error(`${collection}: HTTP ${r.status}`);
    const body = await r.json();
    features.push(...body.features);
    const next = (body.links || []).find((l) => l.rel === "next");
    url = next ? next.href : null;
  }
  return { type: "FeatureCollection", features };
}

const EMPTY = { type: "FeatureCollection", features: [] };

function boundaryLayers(dark) {
  const ink = dark ? "#e2e8f0" : "#1f2937";
  return {
    grids: { minzoom: 12, paint: { "line-color": dark ? "#475569" : "#94a3b8", "line-width": 0.5, "line-opacity": 0.8 } },
    villages: { minzoom: 10, paint: { "line-color": dark ? "#94a3b8" : "#6b7280", "line-width": 0.8,
      "line-dasharray": ["case", ["==", ["get", "approximate"], true], ["literal", [3, 2]], ["literal", [1, 0]]] } },
    townships: { minzoom: 0, paint: { "line-color": dark ? "#cbd5e1" : "#0b5cad", "line-width": 1.4,
      "line-dasharray": ["case", ["==", ["get", "approximate"], true], ["literal", [4, 2]], ["literal", [1, 0]]] } },
    county: { minzoom: 0, paint: { "line-color": ink, "line-width": 2.2 } },
  };
}

/**
 * A MapLibre map on CONTAINER with the base layer and the boundaries.
 * options: boundaries (names from ALL_BOUNDARIES, default all; [] for none), dark (wall screens),
 * bounds ([[w, s], [e, n]] in WGS-84; default the county), center/zoom (WGS-84), padding,
 * and any other MapLibre option. Returns { map, config, toMap, fromMap, points, boundariesLoaded }.
 */
export async function createMap(container, options = {}) {
  const cfg = await basemapConfig();
  const { toMap, fromMap } = converters(cfg.crs);
  const { boundaries = ALL_BOUNDARIES, dark = false, bounds = null, center = null, zoom = null, padding = 20,
    ...rest } = options;
  registerGlyphs();
  const sources = {};
  const layers = [{ id: "background", type: "background", paint: { "background-color": dark ? "#0f172a" : "#dee2e7" } }];
  if (cfg.tiles) {
    sources.basemap = { type: "raster", tiles: [cfg.tiles], tileSize: 256, minzoom: cfg.min_zoom, maxzoom: cfg.max_zoom,
      attribution: cfg.attribution || "" };
    if (cfg.bounds) sources.basemap.bounds = cfg.bounds;
    layers.push({ id: "basemap", type: "raster", source: "basemap",
      // on the wall screen the tiles are drawn inverted: dark land, light lines and names
      paint: dark ? { "raster-brightness-min": 0.85, "raster-brightness-max": 0.06, "raster-saturation": -0.5 } : {} });
  }
  const box = bounds || (cfg.county_bbox ? [[cfg.county_bbox[0], cfg.county_bbox[1]], [cfg.county_bbox[2], cfg.county_bbox[3]]] : null);
  const view = center
    ? { center: toMap(center), zoom: zoom ?? 14 }
    : box ? { bounds: [toMap(box[0]), toMap(box[1])], fitBoundsOptions: { padding } } : { center: [119.27, 28.59], zoom: 9 };
  const map = new maplibregl.Map({
    container,
    style: { version: 8, glyphs: "countyos-glyphs://{fontstack}/{range}", sources, layers },
    localIdeographFontFamily: LOCAL_FONTS,
    attributionControl: cfg.attribution ? { compact: true } : false,
    fadeDuration: 0,
    // the map's own words (zoom buttons, "Map") in the interface language, from the page (base.html)
    locale: JSON.parse(container.dataset.mapLocale || document.documentElement.dataset.mapLocale || "{}"),
    ...view,
    ...rest,
  });
  container.dataset.basemap = cfg.source;
  // a map made inside a closed <details> or a hidden panel has no size yet: follow its box
  if (window.ResizeObserver) new ResizeObserver(() => map.resize()).observe(container);
  // A tile that cannot be loaded (a phone without signal) leaves the background showing; the error is
  // kept on the element instead of the console.
  map.on("error", (e) => { container.dataset.mapError = String((e && e.error && e.error.message) || "error"); });
  const wanted = cfg.overlays ? boundaries.filter((b) => ALL_BOUNDARIES.includes(b)) : [];
  let resolveLoaded;
  const boundariesLoaded = new Promise((resolve) => { resolveLoaded = resolve; });
  map.on("load", () => {
    const styles = boundaryLayers(dark);
    // drawn from fine to coarse so the county line stays on top
    for (const name of ["grids", "villages", "townships", "county"]) {
      if (!wanted.includes(name)) continue;
      map.addSource(`boundary-${name}`, { type: "geojson", data: EMPTY });
      map.addLayer({ id: `boundary-${name}`, type: "line", source: `boundary-${name}`, minzoom: styles[name].minzoom,
        paint: styles[name].paint });
    }
    const collections = { county: "counties", townships: "townships", villages: "villages", grids: "grids" };
    Promise.all(wanted.map(async (name) => {
      const fc = await fetchCollection(collections[name], cfg.crs);
      map.getSource(`boundary-${name}`)?.setData(fc);
      return [name, fc.features.length];
    })).then((counts) => {
      container.dataset.boundaries = JSON.stringify(Object.fromEntries(counts));
      resolveLoaded(Object.fromEntries(counts));
    }).catch((err) => { container.dataset.boundaryError = String(err); resolveLoaded({}); });
  });
  return { map, config: cfg, toMap, fromMap, points: (fc) => pointsToMap(fc, toMap), boundariesLoaded };
}
