// Service worker for the grid worker's pages (/m/): keeps the report page, its scripts, styles and the
// map's code so the page opens without signal (the base-map tiles already seen stay in the browser's
// cache). Reports themselves wait in IndexedDB (cases-mobile.js), not here.
var CACHE = "countyos-mobile-v2";
var SHELL = ["/m/report", "/static/js/cases-mobile.js", "/static/css/cases.css", "/static/css/countyos.css",
  "/static/js/countyos.js", "/static/vendor/htmx.min.js", "/static/js/position-pick.js", "/static/js/basemap.js",
  "/static/vendor/maplibre-gl.mjs", "/static/vendor/maplibre-gl-shared.mjs", "/static/vendor/maplibre-gl-worker.mjs",
  "/static/vendor/maplibre-gl.css"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) {
    return Promise.all(SHELL.map(function (u) { return c.add(new Request(u, { credentials: "same-origin" })).catch(function () {}); }));
  }));
  self.skipWaiting();
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }));
  self.clients.claim();
});

self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") return;  // writes go to the network; the page queues them when offline
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  var cacheable = url.pathname === "/m/report" || url.pathname.indexOf("/static/") === 0;
  if (!cacheable) return;
  // Network first (fresh CSRF token and categories), the cached copy when there is no signal.
  e.respondWith(fetch(req).then(function (res) {
    if (res.ok) {
      var copy = res.clone();
      caches.open(CACHE).then(function (c) { c.put(url.pathname.indexOf("/static/") === 0 ? req : "/m/report", copy); });
    }
    return res;
  }).catch(function () {
    return caches.match(url.pathname.indexOf("/static/") === 0 ? req : "/m/report", { ignoreSearch: true });
  }));
});
