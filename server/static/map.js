// Offline maps: Leaflet over Natural Earth country outlines (world-atlas, vendored), with place markers and
// incident bubbles. Online tiles only when the server is configured with PSK_MAP_TILES (data-tiles).
// Labels reach the page as text nodes only (never innerHTML).
(function () {
  "use strict";
  var worldCache = {};

  function loadWorld(url, integrity) {
    if (!worldCache[url]) {
      worldCache[url] = fetch(url, integrity ? { integrity: integrity } : {}).then(function (r) {
        if (!r.ok) throw new Error("base map: HTTP " + r.status);
        return r.json();
      });
    }
    return worldCache[url];
  }

  function link(text, href) {
    var el = document.createElement(href ? "a" : "span");
    if (href) el.href = href;
    el.textContent = text;
    return el;
  }

  // A popup body built from DOM nodes: a title (linked when there is a page) and lines of plain text.
  function popup(title, href, lines) {
    var div = document.createElement("div");
    div.className = "map-popup";
    var strong = document.createElement("strong");
    strong.appendChild(link(title, href));
    div.appendChild(strong);
    (lines || []).forEach(function (line) {
      var p = document.createElement("div");
      p.textContent = line;
      div.appendChild(p);
    });
    return div;
  }

  function escapeText(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }

  // create(el, {world, worldIntegrity, tiles, tilesAttribution}) -> {map, ready, addMarker, addBubbles, fit}
  function create(el, opts) {
    var L = window.L;
    var map = L.map(el, { worldCopyJump: false, minZoom: 2, maxZoom: 14, attributionControl: true });
    map.attributionControl.setPrefix(false);
    map.setView([30, 69], 5); // Pakistan, until the data says where to look
    map.createPane("base").style.zIndex = 250; // under the markers, whenever the outlines arrive
    var ready;
    if (opts.tiles) {
      L.tileLayer(opts.tiles, { attribution: escapeText(opts.tilesAttribution || ""), maxZoom: 18 }).addTo(map);
      ready = Promise.resolve();
    } else {
      el.classList.add("map-offline");
      map.attributionControl.addAttribution("Natural Earth (public domain)");
      ready = loadWorld(opts.world, opts.worldIntegrity).then(function (topo) {
        var countries = window.topojson.feature(topo, topo.objects.countries);
        L.geoJSON(countries, {
          pane: "base",
          interactive: false,
          style: function (f) {
            var home = f.properties && f.properties.name === "Pakistan";
            return { color: "#8a96a8", weight: home ? 1.5 : 0.7, fillColor: home ? "#f4f1e8" : "#e6e9ee", fillOpacity: 1 };
          },
        }).addTo(map);
        el.dataset.baseLayer = "natural-earth";
      });
    }
    var bounds = [];
    return {
      map: map,
      ready: ready,
      addMarker: function (lat, lon, title, href, lines) {
        var m = L.circleMarker([lat, lon], { radius: 7, color: "#0b5cad", weight: 2, fillColor: "#fff", fillOpacity: 1 });
        m.bindPopup(popup(title, href, lines)).addTo(map);
        bounds.push([lat, lon]);
        return m;
      },
      // points: [{lat, lon, label, page, incidents, fatalities}]
      addBubbles: function (points) {
        var max = 1;
        points.forEach(function (p) { max = Math.max(max, p.incidents || 1); });
        points.forEach(function (p) {
          var n = p.incidents || 1;
          var m = L.circleMarker([p.lat, p.lon], {
            radius: 4 + 16 * Math.sqrt(n / max), color: "#a33", weight: 1, fillColor: "#d55", fillOpacity: 0.55,
          });
          var lines = [];
          if (p.incidents != null) lines.push(p.incidents + " incident" + (p.incidents === 1 ? "" : "s"));
          if (p.fatalities != null) lines.push(p.fatalities + " fatalities");
          (p.extra || []).forEach(function (x) { lines.push(x); });
          m.bindPopup(popup(p.label, p.page, lines)).addTo(map);
          bounds.push([p.lat, p.lon]);
        });
      },
      fit: function () {
        if (bounds.length === 1) map.setView(bounds[0], 7);
        else if (bounds.length > 1) map.fitBounds(bounds, { padding: [40, 40], maxZoom: 8 });
      },
    };
  }

  window.PSKMap = { create: create, popup: popup };

  function fallback(el, message) {
    el.classList.add("map-fallback");
    el.textContent = message;
  }

  window.addEventListener("load", function () {
    var el = document.getElementById("map");
    if (!el || !el.dataset.world) return;
    var d = el.dataset;
    var where = d.lat ? "Location: " + d.lat + ", " + d.lon : "";
    if (typeof window.L === "undefined" || typeof window.topojson === "undefined") {
      fallback(el, where || "The map needs JavaScript.");
      return;
    }
    var m = create(el, { world: d.world, worldIntegrity: d.worldIntegrity, tiles: d.tiles, tilesAttribution: d.tilesAttribution });
    var jobs = [m.ready];
    if (d.lat) m.addMarker(parseFloat(d.lat), parseFloat(d.lon), d.label || "", null, [where]);
    if (d.points) {
      jobs.push(fetch(d.points).then(function (r) { return r.json(); }).then(function (points) {
        m.addBubbles(points);
        el.dataset.pointsCount = String(points.length);
      }));
    }
    Promise.all(jobs).then(function () {
      m.fit();
      el.dataset.ready = "true";
    }, function (err) {
      el.dataset.ready = "error";
      var note = document.createElement("p");
      note.className = "meta";
      note.textContent = "The map could not be drawn: " + err.message;
      el.parentNode.insertBefore(note, el.nextSibling);
    });
  });
})();
