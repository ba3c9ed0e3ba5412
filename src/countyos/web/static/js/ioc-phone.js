// Leader's phone view (ioc): the page is rendered by the server; live events re-render it in place
// (urgent items, tiles) without a reload. No inline scripts (CSP).
const root = document.getElementById("ioc-phone");
const L = JSON.parse(root?.dataset.labels || "{}");

let pending = null;
async function refresh() {
  const r = await fetch(window.location.href, { credentials: "same-origin" });
  if (!r.ok) return;
  const doc = new DOMParser().parseFromString(await r.text(), "text/html");
  for (const sel of ["#ioc-urgent", ".ioc-tiles-phone"]) {
    const fresh = doc.querySelector(sel);
    const here = document.querySelector(sel);
    if (fresh && here) here.innerHTML = fresh.innerHTML;
  }
  root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
}

// As on the desktop view: after an answer that is not a stream (a 502/503 while the server restarts)
// EventSource gives up, so a new one is opened here after a growing pause; back, the page re-reads.
let opened = false;
let pause = 2000;

function connect() {
  const status = document.getElementById("ioc-live");
  const set = (ok) => {
    status.classList.toggle("on", ok);
    status.querySelector("[data-text]").textContent = ok ? L.connected || "" : L.reconnecting || "";
  };
  const later = () => { if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 300); };
  const source = new EventSource("/api/v1/ioc/stream");
  source.addEventListener("hello", () => {
    set(true);
    pause = 2000;
    if (opened) later();
    opened = true;
  });
  source.addEventListener("reset", later);  // away too long to replay what was missed: re-read the page
  source.onerror = () => {
    set(false);
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(connect, pause);
      pause = Math.min(pause * 2, 30000);
    }
  };
  for (const kind of ["case_reported", "case_dispatched", "case_closed", "case_rework", "case_supervised",
    "alarm_raised", "alarm_acknowledged", "alarm_cleared"]) source.addEventListener(kind, later);
}

if (root) connect();
