// The store page's map: Leaflet (static/vendor/leaflet-*) with tiles from MAP_TILES_URL.
// Progressive enhancement: without JavaScript, or when Leaflet did not load, the map stays
// hidden and the address and directions link say where the store is.
(function () {
  "use strict";

  function draw(element) {
    var lat = parseFloat(element.getAttribute("data-lat"));
    var lon = parseFloat(element.getAttribute("data-lon"));
    if (!window.L || isNaN(lat) || isNaN(lon)) {
      return;
    }
    element.hidden = false;
    var map = window.L.map(element, { scrollWheelZoom: false }).setView([lat, lon], 16);
    window.L.tileLayer(element.getAttribute("data-tiles"), {
      maxZoom: 19,
      attribution: element.getAttribute("data-attribution") || "",
    }).addTo(map);
    // Leaflet's pin without its shadow: the shadow has no 2x image and looks blurred on phones.
    var pin = window.L.icon({
      iconUrl: element.getAttribute("data-marker"),
      iconRetinaUrl: element.getAttribute("data-marker-2x"),
      iconSize: [25, 41],
      iconAnchor: [12, 41],
    });
    window.L.marker([lat, lon], { icon: pin, keyboard: false }).addTo(map);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var maps = document.querySelectorAll("[data-store-map]");
    for (var i = 0; i < maps.length; i++) {
      draw(maps[i]);
    }
  });
})();
