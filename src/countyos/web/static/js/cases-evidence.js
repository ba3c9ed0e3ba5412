// Evidence photos of an action form (case page, the phone's task page): when photos are chosen, the
// browser's position (if the person allows it) and the time they were chosen go into the form's hidden
// fields; the server keeps the camera's EXIF position and time instead when the photo has them.
(function () {
  "use strict";
  function stamp(input) {
    var form = input.form;
    if (!form) return;
    var status = document.getElementById(input.getAttribute("aria-describedby"));
    var files = Array.prototype.slice.call(input.files || []);
    var set = function (name, value) {
      var el = form.querySelector("input[name=" + name + "]");
      if (el) el.value = value;
    };
    set("photo_lon", ""); set("photo_lat", ""); set("photo_accuracy", "");
    if (!files.length) { set("photo_taken_at", ""); if (status) status.textContent = ""; return; }
    var newest = Math.max.apply(null, files.map(function (f) { return f.lastModified || Date.now(); }));
    set("photo_taken_at", new Date(Math.min(newest, Date.now())).toISOString());
    var say = function (text) { if (status) status.textContent = text; };
    var counted = status ? status.dataset.count.replace("{n}", files.length) : "";
    say(counted);
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(function (pos) {
      set("photo_lon", pos.coords.longitude.toFixed(6));
      set("photo_lat", pos.coords.latitude.toFixed(6));
      set("photo_accuracy", String(Math.min(Math.round(pos.coords.accuracy), 100000)));
      say(counted + " · " + status.dataset.located.replace("{m}", Math.round(pos.coords.accuracy)));
    }, function () {
      say(counted + " · " + status.dataset.noPosition);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  document.querySelectorAll("input[data-photo-input]").forEach(function (input) {
    input.addEventListener("change", function () { stamp(input); });
  });
})();
