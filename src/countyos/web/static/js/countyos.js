// CountyOS shell behaviour. No inline scripts (the Content-Security-Policy forbids them).
(function () {
  "use strict";
  function csrf() { return document.body.dataset.csrf || ""; }
  // htmx requests carry the CSRF token of the session.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf();
  });
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-toggle]");
    if (t) {
      var el = document.getElementById(t.dataset.toggle);
      if (el) el.classList.toggle("open");
    }
    var c = e.target.closest("[data-confirm]");
    if (c && !window.confirm(c.dataset.confirm)) { e.preventDefault(); }
  });
  // Urgent notices (alerts.js) on every signed-in page.
  if (document.querySelector(".topbar-right")) {
    var me = document.querySelector('script[src^="/static/js/countyos.js"]');
    var al = document.createElement("script");
    al.src = "/static/js/alerts.js" + (me && me.src.indexOf("?") > 0 ? me.src.slice(me.src.indexOf("?")) : "");
    al.defer = true;
    document.head.appendChild(al);
  }
  // Auto-submit filter forms when a select changes.
  document.addEventListener("change", function (e) {
    if (e.target.matches("form.filters select")) e.target.form.requestSubmit();
  });
})();
