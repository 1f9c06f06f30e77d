// The search box: suggestions from /api/search, chosen with arrow keys + Enter or a click (which opens that page);
// typing alone never navigates, and Enter without a chosen suggestion submits the search form.
(function () {
  "use strict";
  var box = document.getElementById("search-box");
  if (!box || !window.PSKSuggest) return;
  window.PSKSuggest.attach(box, {
    source: window.PSKSuggest.searchSource(null),
    choose: function (item) { window.location.href = item.href; },
  });
})();
