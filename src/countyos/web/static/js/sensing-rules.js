// Rule editor (sensing): "preview over the last days" posts the condition and target to
// /api/v1/sensing/rules/preview and says how often the rule would have fired. No inline scripts (CSP).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const btn = document.getElementById("rule-preview");
    if (!btn) return;
    const out = document.getElementById("rule-preview-result");
    btn.addEventListener("click", async () => {
      const form = document.getElementById("rule-form");
      const f = new FormData(form);
      let condition;
      try {
        condition = JSON.parse(f.get("condition"));
      } catch (e) {
        out.textContent = String(e);
        return;
      }
      const num = (v) => (v ? Number(v) : null);
      const body = {
        condition,
        datastream_id: num(f.get("datastream_id")),
        observed_property_id: num(f.get("observed_property_id")),
        device_class: f.get("device_class") || null,
        days: Number(btn.dataset.days),
      };
      const r = await fetch("/api/v1/sensing/rules/preview", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf || "" },
        body: JSON.stringify(body),
      });
      const res = await r.json();
      if (!r.ok) {
        out.textContent = (res.errors || []).map((e) => e.message).join("; ") || res.detail;
        return;
      }
      out.textContent = btn.dataset.text.replace("{days}", res.days).replace("{n}", res.fired).replace("{obs}", res.observations);
      out.dataset.fired = String(res.fired);
    });
  });
})();
