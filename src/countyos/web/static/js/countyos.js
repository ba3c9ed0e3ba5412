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
  // Forms keep what was typed: each posted form's values are kept for this tab; when the answer is
  // the generic error page (a refused form), its button goes back and the form is filled in again,
  // each error shown beside its field. Passwords, files and hidden fields are never kept.
  var KEEP = "countyos.form";
  function keepable(el) {
    return el.name && !el.disabled && ["password", "file", "hidden", "submit", "button"].indexOf(el.type) < 0;
  }
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (!f || (f.method || "").toLowerCase() !== "post") return;
    var values = [];
    Array.prototype.forEach.call(f.elements, function (el) {
      if (!keepable(el)) return;
      if (el.type === "checkbox" || el.type === "radio") values.push([el.name, el.value, el.checked]);
      else if (el.multiple) values.push([el.name, Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; }), null]);
      else values.push([el.name, el.value, null]);
    });
    try {
      sessionStorage.setItem(KEEP, JSON.stringify({ path: location.pathname + location.search, action: f.getAttribute("action") || "", values: values, at: Date.now() }));
    } catch (err) { /* storage full or private mode */ }
  }, true);
  var refused = document.querySelector("[data-form-refused]");
  if (refused) {
    try {
      var kept = JSON.parse(sessionStorage.getItem(KEEP) || "null");
      if (kept) { kept.fields = JSON.parse(refused.dataset.fields || "[]"); kept.restore = true; sessionStorage.setItem(KEEP, JSON.stringify(kept)); }
    } catch (err) { /* nothing kept */ }
    var back = document.querySelector("[data-back]");
    if (back) back.addEventListener("click", function () { history.back(); });
  } else {
    restoreForm();
  }
  window.addEventListener("pageshow", function (e) { if (e.persisted) restoreForm(); });
  function restoreForm() {
    var kept;
    try { kept = JSON.parse(sessionStorage.getItem(KEEP) || "null"); } catch (err) { kept = null; }
    if (!kept || kept.path !== location.pathname + location.search) return;
    // back from the error page, or sent back to the same page with an error message (post/redirect/get)
    var refusedHere = document.querySelector(".flash-error") && Date.now() - (kept.at || 0) < 120000;
    if (!kept.restore && !refusedHere) return;
    sessionStorage.removeItem(KEEP);
    var form = Array.prototype.filter.call(document.forms, function (f) { return (f.getAttribute("action") || "") === kept.action; })[0];
    if (!form) return;
    kept.values.forEach(function (v) {
      var els = Array.prototype.filter.call(form.elements, function (el) { return el.name === v[0] && keepable(el); });
      els.forEach(function (el) {
        if (el.type === "checkbox" || el.type === "radio") { if (el.value === v[1]) el.checked = !!v[2]; }
        else if (el.multiple && Array.isArray(v[1])) { Array.prototype.forEach.call(el.options, function (o) { o.selected = v[1].indexOf(o.value) >= 0; }); }
        else el.value = v[1];
      });
    });
    var loose = [];
    (kept.fields || []).forEach(function (f) {
      var el = f.field && form.elements.namedItem(f.field);
      if (el && el.length && !el.tagName) el = el[0];
      var msg = document.createElement("p");
      msg.className = "field-error";
      msg.setAttribute("role", "alert");
      msg.textContent = f.message;
      if (el && el.insertAdjacentElement) { msg.id = "error-" + f.field; el.setAttribute("aria-invalid", "true"); el.insertAdjacentElement("afterend", msg); }
      else loose.push(msg);
    });
    loose.forEach(function (m) { form.insertBefore(m, form.firstChild); });
  }
  // Auto-submit filter forms when a select changes.
  document.addEventListener("change", function (e) {
    if (e.target.matches("form.filters select")) e.target.form.requestSubmit();
  });
})();
