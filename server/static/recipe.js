// Recipe forms: entity fields get suggestions of the right classes (the chosen IRI goes into a hidden field; a name
// typed without choosing, or sent without JavaScript, is resolved by the server); after a run the result views are drawn for the bound query.
(function () {
  "use strict";
  var form = document.getElementById("recipe-form");
  if (!form) return;
  Array.prototype.forEach.call(form.querySelectorAll("input.entity-input"), function (input) {
    var hidden = document.getElementById(input.dataset.target);
    var classes = (input.dataset.classes || "").split(" ").filter(Boolean);
    window.PSKSuggest.attach(input, {
      source: window.PSKSuggest.searchSource(classes),
      choose: function (item) { input.value = item.label; hidden.value = item.value; input.dataset.chosen = item.value; },
      typed: function () { hidden.value = ""; delete input.dataset.chosen; }, // the server resolves a typed name
    });
  });
  var out = document.getElementById("js-results");
  var bound = document.getElementById("bound-query");
  if (form.dataset.ran !== "true" || !out || !bound || !window.PSKResults) return;
  var R = window.PSKResults, query = bound.textContent, d = form.dataset;
  R.run(query, d.endpoint, R.queryForm(query)).then(function (res) {
    if (!res.ok) return;
    var server = document.getElementById("results");
    if (server) server.hidden = true;
    R.render(out, {
      query: query, endpoint: d.endpoint, kind: res.kind, data: res.data, text: res.text, truncated: res.truncated,
      map: { world: d.world, worldIntegrity: d.worldIntegrity, tiles: d.tiles, tilesAttribution: d.tilesAttribution },
    });
  });
})();
