// Citizen report form: fill longitude/latitude from the browser's position (WGS-84).
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-locate]");
    if (!b) return;
    var status = document.getElementById("locate-status");
    if (!navigator.geolocation) { status.textContent = "—"; return; }
    status.textContent = "…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("lon").value = pos.coords.longitude.toFixed(6);
      document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
      status.textContent = "±" + Math.round(pos.coords.accuracy) + " m";
    }, function (err) { status.textContent = err.message; }, { enableHighAccuracy: true, timeout: 15000 });
  });
  // At most data-max photos are kept: say so as soon as more are chosen, before anything is uploaded.
  var photos = document.getElementById("photos");
  if (photos && photos.dataset.max) {
    photos.addEventListener("change", function () {
      var max = parseInt(photos.dataset.max, 10);
      var n = photos.files ? photos.files.length : 0;
      photos.setCustomValidity(n > max ? photos.dataset.tooMany.replace("{n}", String(n)) : "");
      photos.reportValidity();
    });
  }
})();
