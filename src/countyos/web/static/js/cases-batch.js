// Batch actions on the case list: tick all, count the ticked rows. No inline scripts (CSP).
(function () {
  "use strict";
  var form = document.getElementById("batch-form");
  if (!form) return;
  var all = document.getElementById("batch-all");
  var count = document.getElementById("batch-count");
  function picks() { return Array.prototype.slice.call(document.querySelectorAll("input.batch-pick")); }
  function update() {
    var n = picks().filter(function (p) { return p.checked; }).length;
    if (count) count.textContent = (count.dataset.template || "%(n)s").replace("%(n)s", String(n));
  }
  if (all) all.addEventListener("change", function () {
    picks().forEach(function (p) { p.checked = all.checked; });
    update();
  });
  document.addEventListener("change", function (e) { if (e.target.classList && e.target.classList.contains("batch-pick")) update(); });
  update();
})();
