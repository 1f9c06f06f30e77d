// Result views for SPARQL JSON results: table (labels linked to entity pages), map, timeline, bar/line chart,
// downloads and code snippets. Shared by the query page and the recipe forms. Text reaches the page through
// textContent and DOM nodes only. The charts are hand-written SVG: two chart types over one label and one number
// do not justify another vendored library.
(function () {
  "use strict";
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var WKT = "http://www.opengis.net/ont/geosparql#wktLiteral";
  var SVG = "http://www.w3.org/2000/svg";
  var NUMERIC = ["integer", "decimal", "double", "float", "int", "long", "short", "nonNegativeInteger", "positiveInteger"];
  var DATES = ["date", "dateTime", "gYear", "gYearMonth"];

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") el.textContent = attrs[k];
      else if (k === "className") el.className = attrs[k];
      else el.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return el;
  }
  function s(tag, attrs, children) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { if (c) el.appendChild(c); });
    return el;
  }
  function svgTitle(text) { var t = document.createElementNS(SVG, "title"); t.textContent = text; return t; }

  function xsdType(b) { return b && b.datatype && b.datatype.indexOf(XSD) === 0 ? b.datatype.slice(XSD.length) : null; }
  function isNumber(b) {
    if (!b || b.type === "uri" || b.type === "bnode") return false;
    var t = xsdType(b);
    if (t) return NUMERIC.indexOf(t) >= 0;
    return false;
  }
  function isDate(b) {
    if (!b || b.type === "uri") return false;
    var t = xsdType(b);
    if (t) return DATES.indexOf(t) >= 0;
    return /^\d{4}-\d{2}-\d{2}/.test(b.value);
  }
  function dateValue(b) {
    var v = b.value;
    if (/^-?\d{4}$/.test(v)) v += "-07-01";
    else if (/^\d{4}-\d{2}$/.test(v)) v += "-15";
    var d = new Date(v.slice(0, 10) + "T00:00:00Z");
    return isNaN(d.getTime()) ? null : d;
  }
  function parseWkt(v) {
    var m = /^\s*(?:<[^>]*>\s*)?POINT\s*\(\s*(-?[\d.]+(?:e-?\d+)?)\s+(-?[\d.]+(?:e-?\d+)?)\s*\)\s*$/i.exec(v);
    return m ? [parseFloat(m[2]), parseFloat(m[1])] : null;
  }
  function allRows(rows, v, test) {
    var seen = 0;
    for (var i = 0; i < rows.length; i++) {
      var b = rows[i][v];
      if (!b) continue;
      if (!test(b)) return false;
      seen++;
    }
    return seen > 0;
  }

  // Which views fit these columns: {table, map: {kind, ...}, timeline: {v}, chart: {label, value, line}}
  function detect(vars, rows) {
    var views = { table: true };
    var wkt = vars.filter(function (v) {
      return allRows(rows, v, function (b) { return b.type !== "uri" && (b.datatype === WKT || parseWkt(b.value) !== null) && parseWkt(b.value) !== null; });
    })[0];
    var lat = vars.filter(function (v) { return /^(lat|latitude)$/i.test(v); })[0];
    var lon = vars.filter(function (v) { return /^(lon|long|lng|longitude)$/i.test(v); })[0];
    var numeric = function (b) { return b.type !== "uri" && !isNaN(parseFloat(b.value)); };
    if (wkt) views.map = { wkt: wkt };
    else if (lat && lon && allRows(rows, lat, numeric) && allRows(rows, lon, numeric)) views.map = { lat: lat, lon: lon };
    var date = vars.filter(function (v) { return allRows(rows, v, isDate); })[0];
    if (date) views.timeline = { v: date };
    var coordinate = /^(lat|latitude|lon|long|lng|longitude)$/i;
    var numbers = vars.filter(function (v) { return !coordinate.test(v) && allRows(rows, v, isNumber); });
    var value = numbers.filter(function (v) { return !/^(year|month|day)$/i.test(v); })[0] || numbers[numbers.length - 1];
    var label = vars.filter(function (v) { return numbers.indexOf(v) < 0 && allRows(rows, v, function () { return true; }); })[0] ||
      vars.filter(function (v) { return v !== value && allRows(rows, v, function () { return true; }); })[0];
    if (value && label) {
      var yearish = allRows(rows, label, function (b) { return isDate(b) || /^\d{4}(-\d{2})?$/.test(b.value); });
      views.chart = { label: label, value: value, line: yearish };
    }
    return views;
  }

  function shortIri(iri) {
    var m = /[#\/]([^#\/]+)[#\/]?$/.exec(iri);
    return m ? m[1] : iri;
  }

  // A cell for an IRI: its label linked to its page here; external vocabularies show a CURIE with the IRI as tooltip.
  function iriNode(iri, labels) {
    var info = labels[iri] || {};
    var text = info.label || info.curie || shortIri(iri);
    var a = h("a", { href: info.page || iri, title: info.curie && info.label ? info.curie + " · " + iri : iri, text: text });
    if (!info.page) a.className = "external";
    if (!info.label && info.curie) a.className = "curie";
    return a;
  }
  function termText(b, labels) {
    if (!b) return "";
    if (b.type === "uri") { var i = labels[b.value] || {}; return i.label || i.curie || shortIri(b.value); }
    return b.value;
  }
  function cell(b, labels) {
    var td = h("td");
    if (!b) return td;
    if (b.type === "uri") td.appendChild(iriNode(b.value, labels));
    else if (b.type === "bnode") td.appendChild(h("span", { className: "bnode", text: "_:" + b.value }));
    else {
      if (isNumber(b)) td.className = "num";
      else if (isDate(b)) td.className = "date";
      td.appendChild(h("span", { className: "literal", text: b.value }));
      if (b["xml:lang"]) td.appendChild(h("span", { className: "lang", text: " @" + b["xml:lang"] }));
      else if (b.datatype && xsdType(b) !== "string") {
        var dt = xsdType(b) ? "xsd:" + xsdType(b) : b.datatype === WKT ? "geo:wktLiteral" : shortIri(b.datatype);
        td.appendChild(h("span", { className: "dt", title: b.datatype, text: " " + dt }));
      }
    }
    return td;
  }

  function table(vars, rows, labels) {
    var thead = h("thead", {}, [h("tr", {}, vars.map(function (v) { return h("th", { text: "?" + v }); }))]);
    var tbody = h("tbody");
    rows.forEach(function (row) { tbody.appendChild(h("tr", {}, vars.map(function (v) { return cell(row[v], labels); }))); });
    return h("div", { className: "table-scroll" }, [h("table", { className: "results" }, [thead, tbody])]);
  }

  function firstLink(vars, row) {
    for (var i = 0; i < vars.length; i++) if (row[vars[i]] && row[vars[i]].type === "uri") return row[vars[i]].value;
    return null;
  }
  function rowTitle(vars, row, labels, skip) {
    for (var i = 0; i < vars.length; i++) {
      var b = row[vars[i]];
      if (!b || skip.indexOf(vars[i]) >= 0) continue;
      if (b.type === "literal" && !isNumber(b) && !isDate(b)) return b.value;
    }
    var iri = firstLink(vars, row);
    return iri ? termText({ type: "uri", value: iri }, labels) : "(row)";
  }

  function mapView(container, spec, vars, rows, labels, opts) {
    var el = h("div", { className: "map result-map" });
    container.appendChild(el);
    if (!window.PSKMap || !window.L) { el.textContent = "The map library did not load."; return; }
    var m = window.PSKMap.create(el, opts.map);
    var points = [];
    rows.forEach(function (row) {
      var ll = null;
      if (spec.wkt && row[spec.wkt]) ll = parseWkt(row[spec.wkt].value);
      else if (spec.lat && row[spec.lat] && row[spec.lon]) ll = [parseFloat(row[spec.lat].value), parseFloat(row[spec.lon].value)];
      if (!ll || isNaN(ll[0]) || isNaN(ll[1])) return;
      var iri = firstLink(vars, row);
      var info = iri ? labels[iri] || {} : {};
      var extra = vars.filter(function (v) { return row[v] && [spec.wkt, spec.lat, spec.lon].indexOf(v) < 0; }).slice(0, 4)
        .map(function (v) { return v + ": " + termText(row[v], labels); });
      points.push({ lat: ll[0], lon: ll[1], label: rowTitle(vars, row, labels, [spec.wkt]), page: info.page || iri, extra: extra });
    });
    m.addBubbles(points);
    m.ready.then(function () {
      setTimeout(function () { m.map.invalidateSize(); m.fit(); el.dataset.ready = "true"; el.dataset.points = String(points.length); }, 0);
    });
    return m;
  }

  function timelineView(container, spec, vars, rows, labels) {
    var items = [];
    rows.forEach(function (row) {
      var b = row[spec.v];
      var d = b && dateValue(b);
      if (d) items.push({ d: d, row: row, text: b.value });
    });
    if (!items.length) { container.appendChild(h("p", { text: "No dates to show." })); return; }
    items.sort(function (a, b) { return a.d - b.d; });
    var t0 = items[0].d.getTime(), t1 = items[items.length - 1].d.getTime();
    if (t1 === t0) { t0 -= 864e5 * 15; t1 += 864e5 * 15; }
    var W = 900, left = 20, right = 20, lane = 14, stacks = {};
    var x = function (d) { return left + (W - left - right) * (d.getTime() - t0) / (t1 - t0); };
    var dots = items.map(function (it) {
      var px = Math.round(x(it.d) / 6);
      stacks[px] = (stacks[px] || 0) + 1;
      return { it: it, cx: x(it.d), level: stacks[px] - 1 };
    });
    var maxLevel = Math.min(20, Math.max.apply(null, dots.map(function (d) { return d.level; })));
    var H = 50 + (maxLevel + 1) * lane;
    var svg = s("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Timeline of " + spec.v, class: "timeline" });
    svg.appendChild(s("line", { x1: left, x2: W - right, y1: H - 30, y2: H - 30, stroke: "#888" }));
    var y0 = new Date(t0).getUTCFullYear(), y1 = new Date(t1).getUTCFullYear();
    var step = Math.max(1, Math.ceil((y1 - y0 + 1) / 12));
    for (var y = y0; y <= y1 + 1; y += step) {
      var d = new Date(Date.UTC(y, 0, 1));
      if (d.getTime() < t0 || d.getTime() > t1) continue;
      var tx = x(d);
      svg.appendChild(s("line", { x1: tx, x2: tx, y1: H - 34, y2: H - 26, stroke: "#888" }));
      var label = s("text", { x: tx, y: H - 12, "text-anchor": "middle", "font-size": 12, fill: "#444" });
      label.textContent = String(y);
      svg.appendChild(label);
    }
    if (step === 1 && y0 === y1) {
      var only = s("text", { x: left, y: H - 12, "font-size": 12, fill: "#444" });
      only.textContent = items[0].text.slice(0, 10) + " – " + items[items.length - 1].text.slice(0, 10);
      svg.appendChild(only);
    }
    dots.forEach(function (dot) {
      var it = dot.it;
      var iri = firstLink(vars, it.row);
      var info = iri ? labels[iri] || {} : {};
      var circle = s("circle", { cx: dot.cx, cy: H - 40 - Math.min(dot.level, maxLevel) * lane, r: 5, class: "event" }, [
        svgTitle(it.text + " · " + rowTitle(vars, it.row, labels, [spec.v])),
      ]);
      if (iri) {
        var a = s("a", {}, [circle]);
        a.setAttribute("href", info.page || iri);
        svg.appendChild(a);
      } else svg.appendChild(circle);
    });
    container.appendChild(h("div", { className: "chart-scroll" }, [svg]));
    container.appendChild(h("p", { className: "meta", text: items.length + " dated rows by ?" + spec.v + "; hover a dot for its row, click to open it." }));
  }

  function chartView(container, spec, vars, rows, labels) {
    var data = rows.filter(function (r) { return r[spec.label] && r[spec.value]; }).slice(0, 200).map(function (r) {
      return { label: termText(r[spec.label], labels), value: parseFloat(r[spec.value].value), iri: r[spec.label].type === "uri" ? r[spec.label].value : null };
    });
    var kind = spec.line ? "line" : "bar";
    var box = h("div", { className: "chart-box" });
    var toggle = h("div", { className: "chart-kind", role: "group", "aria-label": "Chart type" });
    ["bar", "line"].forEach(function (k) {
      var b = h("button", { type: "button", "data-kind": k, text: k === "bar" ? "Bar chart" : "Line chart" });
      b.addEventListener("click", function () { kind = k; draw(); });
      toggle.appendChild(b);
    });
    container.appendChild(toggle);
    container.appendChild(box);
    function draw() {
      box.textContent = "";
      Array.prototype.forEach.call(toggle.children, function (b) { b.setAttribute("aria-pressed", String(b.dataset.kind === kind)); });
      var max = Math.max.apply(null, data.map(function (d) { return d.value; }).concat([0]));
      var min = Math.min.apply(null, data.map(function (d) { return d.value; }).concat([0]));
      var span = max - min || 1;
      var svg;
      if (kind === "bar") {
        var rowH = 22, labelW = 220, W = 900, H = data.length * rowH + 10;
        svg = s("svg", { viewBox: "0 0 " + W + " " + H, class: "chart bar", role: "img", "aria-label": "Bar chart of ?" + spec.value + " by ?" + spec.label });
        data.forEach(function (d, i) {
          var y = 5 + i * rowH;
          var t = s("text", { x: labelW - 6, y: y + 15, "text-anchor": "end", "font-size": 12 });
          t.textContent = d.label.length > 32 ? d.label.slice(0, 31) + "…" : d.label;
          svg.appendChild(t);
          var zero = labelW + (W - labelW - 80) * (0 - min) / span;
          var end = labelW + (W - labelW - 80) * (d.value - min) / span;
          svg.appendChild(s("rect", { x: Math.min(zero, end), y: y + 3, width: Math.max(1, Math.abs(end - zero)), height: rowH - 6, class: "bar" }, [svgTitle(d.label + ": " + d.value)]));
          var v = s("text", { x: Math.max(zero, end) + 4, y: y + 15, "font-size": 12, fill: "#444" });
          v.textContent = String(d.value);
          svg.appendChild(v);
        });
      } else {
        var W2 = 900, H2 = 300, pad = 40;
        svg = s("svg", { viewBox: "0 0 " + W2 + " " + H2, class: "chart line", role: "img", "aria-label": "Line chart of ?" + spec.value + " by ?" + spec.label });
        var px = function (i) { return pad + (W2 - 2 * pad) * (data.length > 1 ? i / (data.length - 1) : 0.5); };
        var py = function (v) { return H2 - pad - (H2 - 2 * pad) * (v - min) / span; };
        svg.appendChild(s("line", { x1: pad, x2: W2 - pad, y1: py(Math.max(min, 0)), y2: py(Math.max(min, 0)), stroke: "#888" }));
        svg.appendChild(s("polyline", { points: data.map(function (d, i) { return px(i) + "," + py(d.value); }).join(" "), fill: "none", class: "line" }));
        var every = Math.max(1, Math.ceil(data.length / 12));
        data.forEach(function (d, i) {
          svg.appendChild(s("circle", { cx: px(i), cy: py(d.value), r: 3.5, class: "point" }, [svgTitle(d.label + ": " + d.value)]));
          if (i % every === 0) {
            var t = s("text", { x: px(i), y: H2 - pad + 16, "text-anchor": "middle", "font-size": 11 });
            t.textContent = d.label.slice(0, 12);
            svg.appendChild(t);
          }
        });
        [min, max].forEach(function (v) {
          var t = s("text", { x: pad - 4, y: py(v) + 4, "text-anchor": "end", "font-size": 11 });
          t.textContent = String(v);
          svg.appendChild(t);
        });
      }
      box.appendChild(h("div", { className: "chart-scroll" }, [svg]));
    }
    draw();
  }

  // -- downloads and code ------------------------------------------------------------------------------------
  var SELECT_FORMATS = [["csv", "CSV"], ["tsv", "TSV"], ["json", "SPARQL JSON"], ["xml", "SPARQL XML"]];
  var GRAPH_FORMATS = [["turtle", "Turtle"], ["ntriples", "N-Triples"], ["jsonld", "JSON-LD"], ["rdfxml", "RDF/XML"], ["trig", "TriG"], ["nquads", "N-Quads"]];
  var EXT = { csv: "csv", tsv: "tsv", json: "srj", xml: "srx", turtle: "ttl", ntriples: "nt", jsonld: "jsonld", rdfxml: "rdf", trig: "trig", nquads: "nq" };

  function downloads(endpoint, query, graph) {
    var p = h("p", { className: "downloads" }, ["Download: "]);
    (graph ? GRAPH_FORMATS : SELECT_FORMATS).forEach(function (f, i) {
      if (i) p.appendChild(document.createTextNode(" · "));
      p.appendChild(h("a", { href: endpoint + "?" + new URLSearchParams({ query: query, format: f[0] }).toString(), download: "query." + EXT[f[0]], "data-format": f[0], text: f[1] }));
    });
    return p;
  }

  function shellQuote(t) { return "'" + t.replace(/'/g, "'\\''") + "'"; }
  function pyString(t) { return '"""' + t.replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"') + '"""'; }
  function rString(t) { return '"' + t.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") + '"'; }

  function snippets(endpoint, query, graph) {
    var accept = graph ? "text/turtle" : "text/csv";
    return [
      ["curl", "curl -s " + shellQuote(endpoint) + " \\\n  --data-urlencode " + shellQuote("query=" + query) + " \\\n  -H " + shellQuote("Accept: " + accept)],
      ["Python (SPARQLWrapper)", graph
        ? "from SPARQLWrapper import SPARQLWrapper, TURTLE\n\nsparql = SPARQLWrapper(" + JSON.stringify(endpoint) + ")\nsparql.setQuery(" + pyString(query) + ")\nsparql.setReturnFormat(TURTLE)\nprint(sparql.queryAndConvert().decode())\n"
        : "from SPARQLWrapper import JSON, SPARQLWrapper\n\nsparql = SPARQLWrapper(" + JSON.stringify(endpoint) + ")\nsparql.setQuery(" + pyString(query) + ")\nsparql.setReturnFormat(JSON)\nresults = sparql.queryAndConvert()\nfor row in results[\"results\"][\"bindings\"]:\n    print({name: value[\"value\"] for name, value in row.items()})\n"],
      ["R (httr)", "library(httr)\n\nquery <- " + rString(query) + "\nresponse <- POST(" + JSON.stringify(endpoint) + ", body = list(query = query), encode = \"form\",\n                 accept(" + JSON.stringify(accept) + "))\n" +
        (graph ? "cat(content(response, as = \"text\", encoding = \"UTF-8\"))\n" : "results <- read.csv(text = content(response, as = \"text\", encoding = \"UTF-8\"))\nhead(results)\n")],
    ];
  }

  function codeView(container, endpoint, query, graph) {
    snippets(endpoint, query, graph).forEach(function (sn) {
      var pre = h("pre", { className: "snippet", "data-lang": sn[0], text: sn[1] });
      var copy = h("button", { type: "button", className: "copy", text: "Copy" });
      copy.addEventListener("click", function () {
        if (navigator.clipboard) navigator.clipboard.writeText(sn[1]).then(function () { copy.textContent = "Copied"; }, function () {});
      });
      container.appendChild(h("div", { className: "snippet-box" }, [h("h3", { text: sn[0] }), copy, pre]));
    });
  }

  function fetchLabels(rows) {
    var iris = {};
    rows.slice(0, 2000).forEach(function (row) { Object.keys(row).forEach(function (v) { if (row[v].type === "uri") iris[row[v].value] = 1; }); });
    var list = Object.keys(iris).slice(0, 2000);
    if (!list.length) return Promise.resolve({});
    return fetch("/api/labels", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ iris: list }) })
      .then(function (r) { return r.ok ? r.json() : {}; }, function () { return {}; });
  }

  // render(container, {query, endpoint, response: {kind: 'json'|'graph', data|text}, map, note})
  function render(container, opts) {
    container.textContent = "";
    var graph = opts.kind === "graph";
    var tabs = h("div", { className: "view-tabs", role: "tablist", "aria-label": "Result views" });
    var panels = h("div", { className: "view-panels" });
    var header = h("div", { className: "result-header" });
    container.appendChild(header);
    container.appendChild(tabs);
    container.appendChild(panels);
    var views = [];
    function addView(name, title, draw) {
      var tab = h("button", { type: "button", role: "tab", "data-view": name, id: "tab-" + name, "aria-controls": "view-" + name, text: title });
      var panel = h("div", { role: "tabpanel", id: "view-" + name, className: "view view-" + name, "aria-labelledby": "tab-" + name });
      panel.hidden = true;
      var drawn = false;
      tab.addEventListener("click", function () {
        views.forEach(function (v) { v.tab.setAttribute("aria-selected", "false"); v.panel.hidden = true; });
        tab.setAttribute("aria-selected", "true");
        panel.hidden = false;
        if (!drawn) { drawn = true; draw(panel); }
        container.dataset.view = name;
      });
      tabs.appendChild(tab);
      panels.appendChild(panel);
      views.push({ tab: tab, panel: panel });
    }
    return (graph || opts.data.boolean !== undefined ? Promise.resolve({}) : fetchLabels(opts.data.results.bindings)).then(function (labels) {
      if (graph) {
        header.appendChild(h("p", { className: "meta", text: "Graph result (" + opts.text.split("\n").filter(function (l) { return l.trim() && l.indexOf("@prefix") !== 0; }).length + " lines of Turtle)" }));
        addView("turtle", "Turtle", function (p) { p.appendChild(h("pre", { className: "turtle", text: opts.text })); });
      } else if (opts.data.boolean !== undefined) {
        header.appendChild(h("p", { className: "boolean" }, ["ASK result: ", h("strong", { text: String(opts.data.boolean) })]));
      } else {
        var vars = opts.data.head.vars, rows = opts.data.results.bindings;
        var found = detect(vars, rows);
        header.appendChild(h("p", { className: "meta result-count", text: rows.length + " row" + (rows.length === 1 ? "" : "s") + (opts.truncated ? " — truncated at the row limit; add LIMIT/OFFSET to page" : "") }));
        addView("table", "Table", function (p) { p.appendChild(table(vars, rows, labels)); });
        if (found.map) addView("map", "Map", function (p) { mapView(p, found.map, vars, rows, labels, opts); });
        if (found.timeline) addView("timeline", "Timeline", function (p) { timelineView(p, found.timeline, vars, rows, labels); });
        if (found.chart) addView("chart", "Chart", function (p) { chartView(p, found.chart, vars, rows, labels); });
      }
      addView("code", "Code", function (p) { codeView(p, opts.endpoint, opts.query, graph); });
      header.appendChild(downloads(opts.endpoint, opts.query, graph));
      if (opts.note) header.appendChild(opts.note);
      if (views.length) views[0].tab.click();
      container.hidden = false;
      container.dataset.ready = "true";
    });
  }

  // run(query, endpoint) -> Promise<{ok, kind, data|text, error}>
  function run(query, endpoint, form) {
    var graph = form === "CONSTRUCT" || form === "DESCRIBE";
    return fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: graph ? "text/turtle" : "application/sparql-results+json" },
      body: new URLSearchParams({ query: query }).toString(),
    }).then(function (r) {
      return r.text().then(function (text) {
        if (!r.ok) return { ok: false, status: r.status, error: text.replace(/^\d{3} [A-Za-z ]+: /, "") };
        if (graph) return { ok: true, kind: "graph", text: text };
        return { ok: true, kind: "json", data: JSON.parse(text), truncated: r.headers.has("X-SPARQL-Truncated") };
      });
    });
  }

  function queryForm(query) {
    var body = query.replace(/#[^\n]*/g, " ").replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|<[^<>\s]*>/g, " ");
    var m = /\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b/i.exec(body);
    return m ? m[1].toUpperCase() : "SELECT";
  }

  window.PSKResults = { render: render, run: run, detect: detect, queryForm: queryForm, snippets: snippets, h: h };
})();
