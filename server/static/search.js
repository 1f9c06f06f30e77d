// Autocomplete for the search box from /api/search (the form works without it).
(function () {
  var box = document.getElementById("search-box");
  var list = document.getElementById("search-suggestions");
  if (!box || !list) return;
  var timer = null, pages = {};
  box.addEventListener("input", function () {
    clearTimeout(timer);
    var q = box.value.trim();
    if (pages[q]) { window.location = pages[q]; return; }
    if (q.length < 2) return;
    timer = setTimeout(function () {
      fetch("/api/search?q=" + encodeURIComponent(q)).then(function (r) { return r.json(); }).then(function (items) {
        list.innerHTML = "";
        items.forEach(function (it) {
          var opt = document.createElement("option");
          opt.value = it.label;
          opt.textContent = it.type;
          pages[it.label] = it.page;
          list.appendChild(opt);
        });
      });
    }, 150);
  });
})();
