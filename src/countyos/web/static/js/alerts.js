// Urgent notices from the live feed: an in-page notice, a short tone (WebAudio, no file, no CDN) and,
// when the person allowed it, a browser notification. A bell in the top bar mutes the tone; the choice
// is remembered in this browser. The stream resumes where the previous page left off. No inline
// scripts (CSP): this file is loaded by countyos.js on every signed-in page.
(function () {
  "use strict";
  var bar = document.querySelector(".topbar-right");
  if (!bar || !window.EventSource || window.__countyosAlerts) return;
  window.__countyosAlerts = true;
  var MUTE_KEY = "countyos.alerts.muted";
  var CURSOR_KEY = "countyos.alerts.cursor";
  var words = { mute: "", unmute: "", dismiss: "×", open: "" };
  var audio = null;
  var stack = null;
  var bell = null;

  function muted() {
    try { return window.localStorage.getItem(MUTE_KEY) === "1"; } catch (e) { return false; }
  }
  function setMuted(v) {
    try { window.localStorage.setItem(MUTE_KEY, v ? "1" : "0"); } catch (e) { /* private mode */ }
    showBell();
  }
  function showBell() {
    if (!bell) return;
    var m = muted();
    drawBell(m);
    bell.setAttribute("aria-pressed", m ? "true" : "false");
    bell.title = m ? words.unmute : words.mute;
    bell.setAttribute("aria-label", bell.title);
  }
  // A drawn bell (no emoji font is needed), crossed out when muted.
  function drawBell(isMuted) {
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    var paths = ["M6 17h12l-1.6-2.2V10a4.4 4.4 0 0 0-8.8 0v4.8z", "M10 19.5a2 2 0 0 0 4 0"];
    if (isMuted) paths.push("M4 4l16 16");
    paths.forEach(function (d) {
      var p = document.createElementNS(NS, "path");
      p.setAttribute("d", d);
      p.setAttribute("fill", "none");
      p.setAttribute("stroke", "currentColor");
      p.setAttribute("stroke-width", "1.8");
      p.setAttribute("stroke-linecap", "round");
      p.setAttribute("stroke-linejoin", "round");
      svg.appendChild(p);
    });
    bell.replaceChildren(svg);
  }
  function makeBell() {
    bell = document.createElement("button");
    bell.type = "button";
    bell.id = "alerts-mute";
    bell.className = "alert-mute";
    bell.addEventListener("click", function () {
      setMuted(!muted());
      unlockAudio();
      if (window.Notification && Notification.permission === "default") {
        try { Notification.requestPermission(); } catch (e) { /* old browsers */ }
      }
    });
    bar.insertBefore(bell, bar.firstChild);
    showBell();
  }
  // Browsers start audio only after a gesture: the first click or key on the page unlocks it.
  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    if (!audio) { try { audio = new Ctx(); } catch (e) { audio = null; return; } }
    if (audio.state === "suspended") audio.resume();
  }
  document.addEventListener("click", unlockAudio, { once: true, capture: true });
  document.addEventListener("keydown", unlockAudio, { once: true, capture: true });

  function tone() {
    document.body.dataset.alertTone = String(Number(document.body.dataset.alertTone || "0") + 1);
    if (muted() || !audio || audio.state !== "running") return;
    var t = audio.currentTime;
    [0, 0.22].forEach(function (offset) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, t + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, t + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.18);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + offset);
      osc.stop(t + offset + 0.2);
    });
  }

  function notice(d) {
    if (!stack) {
      stack = document.createElement("div");
      stack.className = "alert-stack";
      stack.id = "alert-stack";
      stack.setAttribute("role", "alert");
      stack.setAttribute("aria-live", "assertive");
      document.body.appendChild(stack);
    }
    var box = document.createElement("div");
    box.className = "alert-notice";
    box.dataset.kind = d.kind;
    var kind = document.createElement("span");
    kind.className = "alert-kind";
    kind.textContent = d.notice + " · " + d.level;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "link alert-close";
    close.textContent = "×";
    close.setAttribute("aria-label", words.dismiss);
    close.addEventListener("click", function () { box.remove(); });
    var link = document.createElement("a");
    link.href = d.url;
    link.textContent = d.ref + " " + d.title;
    box.appendChild(kind);
    box.appendChild(close);
    box.appendChild(link);
    stack.insertBefore(box, stack.firstChild);
    while (stack.children.length > 5) stack.removeChild(stack.lastChild);
    tone();
    if (window.Notification && Notification.permission === "granted" && document.visibilityState !== "visible") {
      try {
        var n = new Notification(d.notice, { body: d.ref + " " + d.title, tag: d.url });
        n.onclick = function () { window.focus(); window.location.href = d.url; };
      } catch (e) { /* notifications may be blocked */ }
    }
  }

  function remember(e) {
    if (e.lastEventId) {
      try { window.sessionStorage.setItem(CURSOR_KEY, e.lastEventId); } catch (err) { /* private mode */ }
    }
  }
  var after = "";
  try { after = window.sessionStorage.getItem(CURSOR_KEY) || ""; } catch (e) { after = ""; }
  var url = "/api/v1/alerts/stream" + (after ? "?after=" + encodeURIComponent(after) : "");
  var es = new EventSource(url);
  es.addEventListener("hello", function (e) {
    remember(e);
    try { words = Object.assign(words, JSON.parse(e.data)); } catch (err) { /* keep defaults */ }
    if (!bell) makeBell(); else showBell();
    document.body.dataset.alerts = "ready";
  });
  es.addEventListener("tick", remember);
  es.addEventListener("urgent", function (e) {
    remember(e);
    try { notice(JSON.parse(e.data)); } catch (err) { /* a bad frame is skipped */ }
  });
  window.addEventListener("pagehide", function () { es.close(); });
})();
