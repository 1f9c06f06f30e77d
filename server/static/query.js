// The query page: the YASGUI editor (Yasqe, vendored) over the plain form, which keeps working without JavaScript.
// Completion comes from this graph only (/query/completions.json from VoID, /api/search for entities): Yasqe's own
// class and property completers ask an outside service, so they are not used. Ctrl/Cmd+Enter runs the query.
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  var textarea = document.getElementById("query-text");
  var output = document.getElementById("js-results");
  if (!form || !textarea || !output || typeof window.Yasqe === "undefined" || !window.PSKResults) return;
  var endpoint = form.dataset.endpoint;
  var R = window.PSKResults;
  var vocab = { prefixes: {}, classes: [], properties: [] };
  var vocabReady = fetch(form.dataset.completions).then(function (r) { return r.json(); }).then(function (v) { vocab = v; }, function () {});

  var KEYWORDS = ("SELECT DISTINCT REDUCED WHERE OPTIONAL FILTER UNION MINUS GRAPH BIND VALUES GROUP BY ORDER ASC DESC " +
    "LIMIT OFFSET HAVING PREFIX BASE CONSTRUCT DESCRIBE ASK FROM NAMED AS NOT EXISTS IN UNDEF COUNT SUM MIN MAX AVG " +
    "SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES DATATYPE BOUND IRI BNODE CONCAT STRLEN UCASE LCASE CONTAINS " +
    "STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY NOW COALESCE IF REGEX SUBSTR REPLACE ISIRI ISLITERAL ISBLANK ISNUMERIC").split(" ");

  // Yasqe merges its config into its defaults, so its outside-service completers must be removed from the defaults.
  window.Yasqe.defaults.autocompleters = [];
  window.Yasqe.defaults.prefixCcApi = undefined;
  var host = document.createElement("div");
  host.id = "editor";
  form.insertBefore(host, textarea);
  textarea.hidden = true;
  var yasqe = new window.Yasqe(host, {
    value: textarea.value,
    persistenceId: null,
    persistencyExpire: 0,
    autocompleters: [],
    prefixCcApi: undefined,
    createShareableLink: null,
    showQueryButton: false,
    resizeable: true,
    editorHeight: "240px",
    lineNumbers: true,
    syntaxErrorCheck: false, // it flags the predeclared prefixes (psk:, rdfs: ...) as undeclared; the server names real errors
    autofocus: false,
  });
  window.pskEditor = yasqe;
  form.classList.add("has-editor");
  yasqe.on("change", function () { textarea.value = yasqe.getValue(); });

  // -- completion --------------------------------------------------------------------------------------------
  function declaredPrefixes() {
    var out = {};
    var re = /PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/gi, m, text = yasqe.getValue();
    while ((m = re.exec(text))) out[m[1] || ""] = m[2];
    Object.keys(vocab.prefixes || {}).forEach(function (p) { if (!(p in out)) out[p] = vocab.prefixes[p]; });
    return out;
  }
  function compact(iri, prefixes) {
    var best = null;
    Object.keys(prefixes).forEach(function (p) {
      var ns = prefixes[p];
      if (iri.indexOf(ns) === 0 && (!best || ns.length > prefixes[best].length)) best = p;
    });
    return best !== null ? best + ":" + iri.slice(prefixes[best].length) : "<" + iri + ">";
  }
  function previousWord(cur, start) {
    var before = yasqe.getRange({ line: Math.max(0, cur.line - 3), ch: 0 }, { line: cur.line, ch: start });
    var m = /(\S+)\s*$/.exec(before);
    return m ? m[1] : "";
  }
  function hint(auto) {
    var cur = yasqe.getCursor();
    var line = yasqe.getLine(cur.line).slice(0, cur.ch);
    var m = /[A-Za-z_][\w.-]*:?[\w.-]*$|:[\w.-]*$/.exec(line);
    var word = m ? m[0] : "";
    var start = cur.ch - word.length;
    var prev = previousWord(cur, start);
    var token = yasqe.getTokenAt(cur);
    var possible = (token.state && token.state.possibleCurrent) || [];
    var from = { line: cur.line, ch: start }, to = cur;
    var prefixes = declaredPrefixes();
    var list = [];
    var lower = word.toLowerCase();
    if (prev.toUpperCase() === "PREFIX") {
      Object.keys(vocab.prefixes).forEach(function (p) {
        if ((p + ":").indexOf(word) === 0) list.push({ text: p + ": <" + vocab.prefixes[p] + ">", displayText: p + ": <" + vocab.prefixes[p] + ">" });
      });
      return Promise.resolve({ list: list, from: from, to: to });
    }
    var classPos = prev === "a" || prev === "rdf:type";
    var predicatePos = !classPos && possible.indexOf("a") >= 0;
    function terms(items, kind) {
      items.forEach(function (t) {
        var c = compact(t.iri, prefixes);
        var local = c.slice(c.indexOf(":") + 1).toLowerCase();
        var label = (t.label || "").toLowerCase();
        if (!word || c.toLowerCase().indexOf(lower) === 0 || (word.indexOf(":") < 0 && (local.indexOf(lower) === 0 || label.indexOf(lower) === 0))) {
          list.push({ text: c, displayText: c + (t.label ? "  " + t.label : "") + "  (" + kind + ")", className: "hint-" + kind });
        }
      });
    }
    return vocabReady.then(function () {
      if (classPos) terms(vocab.classes, "class");
      else if (predicatePos) terms(vocab.properties, "property");
      else if (word.indexOf(":") >= 0) { terms(vocab.classes, "class"); terms(vocab.properties, "property"); }
      if (word.indexOf(":") < 0 && /^[A-Za-z_]/.test(word)) {
        // keywords the grammar expects here first (the editor's parser state), then the others
        var matching = KEYWORDS.filter(function (k) { return k.toLowerCase().indexOf(lower) === 0 && k.toLowerCase() !== lower; });
        matching.sort(function (a, b) { return (possible.indexOf(a) < 0) - (possible.indexOf(b) < 0); });
        matching.forEach(function (k) { list.push({ text: k, displayText: k + "  (keyword)", className: "hint-keyword" }); });
      }
      if (auto && word.indexOf(":") < 0 && !classPos) return { list: list, from: from, to: to };
      if (word.indexOf(":") < 0 && word.length >= 2 && !classPos && !predicatePos) {
        return fetch("/api/search?q=" + encodeURIComponent(word)).then(function (r) { return r.json(); }).then(function (items) {
          items.slice(0, 15).forEach(function (it) {
            list.push({ text: "<" + it.iri + ">", displayText: it.label + (it.type ? "  (" + it.type + ")" : "") + "  <" + it.iri + ">", className: "hint-entity" });
          });
          return { list: list, from: from, to: to };
        }, function () { return { list: list, from: from, to: to }; });
      }
      return { list: list, from: from, to: to };
    });
  }
  function showHints(auto) {
    yasqe.showHint({ hint: function () { return hint(auto); }, completeSingle: false, closeCharacters: /[\s>"(){}]/, container: host });
  }
  yasqe.on("inputRead", function (_cm, change) {
    var typed = change.text.join("");
    if (!/[\w:]/.test(typed)) return;
    var cur = yasqe.getCursor();
    var line = yasqe.getLine(cur.line).slice(0, cur.ch);
    // automatic after a prefix ("psk:"), after "a " / PREFIX, or after three letters of a keyword; Ctrl+Space for entities
    if (/[\w-]*:[\w.-]*$/.test(line) || /\b(a|PREFIX)\s+\w*$/i.test(line) || /(^|\s)[A-Za-z]{3,}$/.test(line)) showHints(true);
  });

  // -- running -----------------------------------------------------------------------------------------------
  var status = document.getElementById("query-status");
  var serverResults = document.getElementById("results");
  function setStatus(text) { if (status) status.textContent = text; }
  function runQuery() {
    var query = yasqe.getValue();
    textarea.value = query;
    var kind = R.queryForm(query);
    setStatus("Running…");
    output.dataset.ready = "false";
    var errorBox = document.getElementById("query-error");
    var t0 = performance.now();
    return R.run(query, endpoint, kind).then(function (res) {
      if (serverResults) serverResults.hidden = true;
      if (history.replaceState) history.replaceState(null, "", form.action + "?" + new URLSearchParams({ query: query }).toString());
      if (!res.ok) {
        output.hidden = true;
        errorBox.textContent = res.error;
        errorBox.hidden = false;
        setStatus("Error " + res.status);
        return;
      }
      errorBox.hidden = true;
      setStatus("Done in " + Math.round(performance.now() - t0) + " ms");
      return R.render(output, { query: query, endpoint: endpoint, kind: res.kind, data: res.data, text: res.text, truncated: res.truncated, map: mapOptions() });
    }, function (err) { setStatus("The request failed: " + err.message); });
  }
  function mapOptions() {
    var d = form.dataset;
    return { world: d.world, worldIntegrity: d.worldIntegrity, tiles: d.tiles, tilesAttribution: d.tilesAttribution };
  }
  var keys = {
    "Ctrl-Enter": runQuery, "Cmd-Enter": runQuery,
    "Ctrl-Space": function () { showHints(false); }, "Cmd-Space": function () { showHints(false); },
  };
  yasqe.addKeyMap(keys);
  form.addEventListener("submit", function (ev) { ev.preventDefault(); runQuery(); });
  window.pskRunQuery = runQuery;

  // -- short link --------------------------------------------------------------------------------------------
  var linkButton = document.getElementById("make-link");
  var linkOut = document.getElementById("short-link");
  if (linkButton && linkOut) {
    linkButton.hidden = false;
    linkButton.addEventListener("click", function () {
      fetch(form.dataset.link, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ query: yasqe.getValue() }) })
        .then(function (r) { return r.json(); })
        .then(function (res) {
          linkOut.value = res.url;
          linkOut.hidden = false;
          linkOut.select();
          if (history.replaceState) history.replaceState(null, "", res.url);
        });
    });
  }

  // A page opened with a query (a shared link) shows the views for it at once.
  if (form.dataset.ran === "true" && !document.getElementById("query-error").textContent.trim()) runQuery();
})();
