// "Nearest to me" on the inspector's phone page: asks for the phone's position only when the button is
// tapped, rounds it to about 10 m and reloads the list with ?lon=&lat= so that the server sorts the key
// places nearest first. The server keeps nothing of it. No inline scripts (CSP).
(function () {
  var button = document.getElementById("insp-near");
  var status = document.getElementById("insp-near-status");
  if (!button || !("geolocation" in navigator)) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    if (status) status.textContent = button.getAttribute("data-asking") || "";
    navigator.geolocation.getCurrentPosition(function (p) {
      var params = new URLSearchParams(window.location.search);
      params.set("lon", p.coords.longitude.toFixed(4));
      params.set("lat", p.coords.latitude.toFixed(4));
      window.location.assign(window.location.pathname + "?" + params.toString());
    }, function () {
      button.disabled = false;
      if (status) status.textContent = button.getAttribute("data-failed") || "";
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
  });
})();
