// The residents' front door: registers the service worker that keeps the shell and the public pages for
// a weak signal (portal-sw.js). Nothing else runs here: every page works without scripts.
(function () {
  if ("serviceWorker" in navigator && window.isSecureContext !== false) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/portal/sw.js", { scope: "/portal" }).catch(function () {});
    });
  }
})();
