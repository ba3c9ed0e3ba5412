// Citizen report form: the photo count is checked before anything is uploaded. The position is set
// with the map pick (position-pick.js: search, the browser's location, a click on the map).
(function () {
  "use strict";
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
