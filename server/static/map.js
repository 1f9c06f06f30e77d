// Leaflet map for places with coordinates (a text fallback is in <noscript>).
window.addEventListener("load", function () {
  var el = document.getElementById("map");
  if (!el || typeof window.L === "undefined") { if (el) el.textContent = "Location: " + el.dataset.lat + ", " + el.dataset.lon; return; }
  var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
  var map = window.L.map(el).setView([lat, lon], 8);
  window.L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", { attribution: "© OpenStreetMap contributors", maxZoom: 18 }).addTo(map);
  window.L.marker([lat, lon]).addTo(map).bindPopup(el.dataset.label);
});
