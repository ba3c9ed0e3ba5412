// "Nearest to me" on the list of public facilities: asks the browser for the phone's position only when
// the button is tapped (never on loading the page), rounds it to about 10 m and reloads the list with
// ?lon=&lat= so that the server sorts it nearest first. The server keeps nothing of it. The page links
// carry no position: the pager's links get it added here from the address of this page.
(function () {
  var button = document.getElementById("pt-near");
  var status = document.getElementById("pt-near-status");
  if (!button || !("geolocation" in navigator)) return;
  button.hidden = false;
  var here = new URLSearchParams(window.location.search);
  if (here.get("lon") && here.get("lat")) {
    document.querySelectorAll("a[data-near]").forEach(function (a) {
      var url = new URL(a.href, window.location.href);
      url.searchParams.set("lon", here.get("lon"));
      url.searchParams.set("lat", here.get("lat"));
      a.href = url.pathname + url.search;
    });
  }
  button.addEventListener("click", function () {
    button.disabled = true;
    if (status) status.textContent = button.getAttribute("data-asking") || "";
    navigator.geolocation.getCurrentPosition(function (p) {
      var params = new URLSearchParams(window.location.search);
      params.delete("page");
      params.set("lon", p.coords.longitude.toFixed(4));
      params.set("lat", p.coords.latitude.toFixed(4));
      window.location.assign(window.location.pathname + "?" + params.toString());
    }, function () {
      button.disabled = false;
      if (status) status.textContent = button.getAttribute("data-failed") || "";
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
  });
})();
