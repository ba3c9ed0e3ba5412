// Service worker of the residents' front door (/portal): keeps the shell (the front page, its style and
// the offline page) and the public pages already read (notices, 村务公开, the privacy rules), so that they
// open on a weak or missing signal. A resident's own pages (/portal/me…) and every write always go to
// the network and are never kept on the phone (a shared phone must not show them to the next person).
var CACHE = "countyos-portal-v1";
var SHELL = ["/portal", "/portal/offline", "/static/js/portal.js", "/static/favicon.svg"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) {
    return Promise.all(SHELL.map(function (u) { return c.add(new Request(u, { credentials: "same-origin" })).catch(function () {}); }));
  }));
  self.skipWaiting();
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("countyos-portal-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }));
  self.clients.claim();
});

function publicPage(path) {
  return path === "/portal" || path === "/portal/privacy" || path === "/portal/offline" ||
    path.indexOf("/portal/notices") === 0;
}

self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  var isStatic = url.pathname.indexOf("/static/") === 0;
  if (!isStatic && !publicPage(url.pathname)) return;  // personal pages: the network only
  // Network first (fresh notices and form tokens), the kept copy when there is no signal.
  e.respondWith(fetch(req).then(function (res) {
    if (res.ok && res.type === "basic") {
      var copy = res.clone();
      caches.open(CACHE).then(function (c) { c.put(req, copy); });
    }
    return res;
  }).catch(function () {
    return caches.match(req).then(function (hit) {
      if (hit) return hit;
      return req.mode === "navigate" ? caches.match("/portal/offline") : Response.error();
    });
  }));
});
