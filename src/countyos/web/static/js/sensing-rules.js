// Rule editor (sensing). The condition builder writes the same JSON the server builds from the form
// (sensing/service/rule_builder.py) into the JSON box, so people see what the engine will evaluate;
// "Write JSON" opens the box for combinations. "Preview over the last days" posts the condition and
// target to /api/v1/sensing/rules/preview and says how often the rule would have fired.
// No inline scripts (CSP).
(function () {
  "use strict";

  function number(text) {
    const t = String(text || "").trim().replace(",", ".");
    if (t === "") return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : NaN;
  }

  function conditionFromForm(form) {
    const f = new FormData(form);
    const kind = f.get("c_kind");
    if (kind === "no_data") return { type: "no_data", intervals: number(f.get("c_intervals")) };
    const op = f.get("c_op");
    const value = number(f.get("c_value"));
    if (kind === "rate") return { type: "rate", op, value, per_seconds: Number(f.get("c_per")) };
    const cond = { type: "threshold", op, value };
    const clear = number(f.get("c_clear"));
    if (clear !== null) cond.clear = clear;
    const minutes = number(f.get("c_minutes"));
    if (minutes !== null) return { type: "duration", seconds: Math.round(minutes * 60), of: cond };
    return cond;
  }

  function setUp(form) {
    const builder = document.getElementById("rule-builder");
    const box = document.getElementById("rule-condition");
    const kind = document.getElementById("c-kind");
    const stream = document.getElementById("rule-datastream");
    const mode = () => (form.querySelector("input[name=mode]:checked") || {}).value || "json";

    function sync() {
      const formMode = mode() === "form";
      builder.hidden = !formMode;
      box.readOnly = formMode;
      for (const row of builder.querySelectorAll("[data-kinds]")) {
        row.hidden = !row.dataset.kinds.split(" ").includes(kind.value);
      }
      const opt = stream && stream.selectedOptions[0];
      for (const hint of builder.querySelectorAll(".unit-hint")) hint.textContent = (opt && opt.dataset.unit) || "";
      if (formMode) box.value = JSON.stringify(conditionFromForm(form), null, 2);
    }

    form.addEventListener("input", (e) => {
      if (e.target !== box) sync();
    });
    form.addEventListener("change", (e) => {
      if (e.target !== box) sync();
    });
    sync();
  }

  function setUpPreview(form) {
    const btn = document.getElementById("rule-preview");
    if (!btn) return;
    const out = document.getElementById("rule-preview-result");
    btn.addEventListener("click", async () => {
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
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("rule-form");
    if (!form) return;
    setUp(form);
    setUpPreview(form);
  });
})();
