// The services intake desk: fill the applicant from an earlier application, a material counts as
// received once ticked or given a file, and the print button of the printables. No inline scripts (CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    const fill = e.target.closest("[data-fill-applicant]");
    if (fill) {
      ["applicant_name", "applicant_kind", "id_type", "phone", "address"].forEach(function (name) {
        const value = fill.dataset[name];
        const field = document.getElementById(name);
        if (field && value !== undefined && value !== "") field.value = value;
      });
      const next = document.getElementById("phone");
      if (next) next.focus();
    }
    if (e.target.closest("[data-print]")) window.print();
  });
  // Ctrl+Enter (⌘+Enter) submits the desk's form from any field, as at the cases intake desk.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    const form = e.target.closest && e.target.closest("#desk-form, #corrections-form");
    if (form) { e.preventDefault(); form.requestSubmit(); }
  });
  document.addEventListener("change", function (e) {
    const input = e.target;
    const m = /^mat-(\d+)-(received|file)$/.exec(input.name || "");
    if (!m) return;
    const received = document.getElementById("mat-" + m[1] + "-received");
    const count = document.getElementById("mat-" + m[1] + "-count");
    const form = document.getElementById("mat-" + m[1] + "-form");
    if (m[2] === "file" && input.files && input.files.length && received) received.checked = true;
    if (received && received.checked && count && !count.value) count.value = "1";
    if (m[2] === "file" && input.files && input.files.length && form && !form.value) form.value = "electronic";
  });
})();
