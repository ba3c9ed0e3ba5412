// Grid worker's patrol report that works without signal. Each report is saved in IndexedDB with an
// idempotency key first, then sent: photos to /api/v1/case-attachments (their ids are remembered so a
// retry does not upload them again), then the report to /api/v1/cases with the same key, so a retry
// after a lost answer returns the case created the first time instead of a duplicate. The position comes
// from the map pick (position-pick.js: GPS, a search over the county's places, or a tap on the map).
(function () {
  "use strict";
  var DB = "countyos-cases", STORE = "outbox";
  var form = document.getElementById("mobile-report");
  var statusEl = document.getElementById("sync-status");
  if (!form) return;
  var csrf = document.body.dataset.csrf || "";
  var syncing = false;

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch(function () {});
  }

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), store = t.objectStore(STORE), out = fn(store);
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function remove(key) { return tx("readwrite", function (s) { s.delete(key); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return "m-" + crypto.randomUUID();
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function show(text, offline) {
    statusEl.textContent = text;
    statusEl.classList.toggle("offline", !!offline);
  }

  function refresh() {
    return all().then(function (items) {
      var waiting = items.filter(function (i) { return !i.error; });
      var failed = items.filter(function (i) { return i.error; });
      if (!navigator.onLine && waiting.length) show(statusEl.dataset.offline + " (" + waiting.length + ")", true);
      else if (waiting.length) show(statusEl.dataset.waiting.replace("{n}", waiting.length), false);
      else if (failed.length) show(statusEl.dataset.failed + " " + failed.map(function (i) { return i.error; }).join("; "), true);
      else show(statusEl.dataset.sent, false);
    });
  }

  function sendOne(item) {
    var uploads = item.photos.map(function (p, i) {
      if (item.attachmentIds[i]) return Promise.resolve(item.attachmentIds[i]);
      var fd = new FormData();
      fd.append("file", p, "photo" + i + ".jpg");
      return fetch("/api/v1/case-attachments", { method: "POST", body: fd, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf } }).then(function (r) {
        if (!r.ok) return r.json().then(function (b) { throw { final: true, message: b.detail || r.status }; });
        return r.json().then(function (b) { item.attachmentIds[i] = b.id; return put(item).then(function () { return b.id; }); });
      });
    });
    return Promise.all(uploads).then(function (ids) {
      var body = Object.assign({}, item.body, { idempotency_key: item.key, attachment_ids: ids });
      return fetch(form.dataset.api, { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body) });
    }).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        return r.json().then(function (c) {
          var li = document.createElement("li");
          li.innerHTML = "";
          var a = document.createElement("a");
          a.href = "/cases/" + c.id; a.textContent = c.number + " · " + c.title;
          li.appendChild(a);
          document.getElementById("m-sent").appendChild(li);
          return remove(item.key);
        });
      }
      if (r.status >= 400 && r.status < 500 && r.status !== 401 && r.status !== 408 && r.status !== 429) {
        return r.json().then(function (b) { item.error = b.detail || String(r.status); return put(item); });
      }
      throw new Error("retry later");
    });
  }

  function sync() {
    if (syncing || !navigator.onLine) return refresh();
    syncing = true;
    return all().then(function (items) {
      return items.filter(function (i) { return !i.error; }).reduce(function (p, item) {
        return p.then(function () { return sendOne(item); });
      }, Promise.resolve());
    }).catch(function (e) {
      if (e && e.final) { /* recorded on the item */ }
    }).then(function () { syncing = false; return refresh(); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var fd = new FormData(form);
    var item = {
      key: newKey(),
      created: new Date().toISOString(),
      body: {
        category_id: parseInt(fd.get("category_id"), 10),
        description: fd.get("description") || null,
        address: fd.get("address") || null,
        lon: parseFloat(fd.get("lon")),
        lat: parseFloat(fd.get("lat")),
        crs: fd.get("crs") || "wgs84",
        self_handled: fd.get("self_handled") === "on",
      },
      photos: Array.prototype.slice.call(document.getElementById("m-photos").files || [], 0, 9),
      attachmentIds: [],
    };
    put(item).then(function () { form.reset(); return sync(); });
  });

  window.addEventListener("online", sync);
  window.addEventListener("offline", refresh);
  setInterval(sync, 30000);
  sync();
})();
