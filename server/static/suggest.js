// Suggestions under a text field, chosen with the arrow keys and Enter (or a click); they never act on their own.
// PSKSuggest.attach(input, {source(q) -> Promise<[{label, detail, value}]>, choose(item)}). Text only: no innerHTML.
(function () {
  "use strict";
  var counter = 0;
  function attach(input, opts) {
    var id = "suggest-" + (++counter);
    var list = document.createElement("ul");
    list.id = id;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.parentNode.insertBefore(list, input.nextSibling);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", id);
    input.setAttribute("aria-expanded", "false");
    var items = [], active = -1, timer = null, asked = "";

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) { li.setAttribute("aria-selected", String(j === i)); });
      if (i >= 0) {
        input.setAttribute("aria-activedescendant", list.children[i].id);
        list.children[i].scrollIntoView({ block: "nearest" });
      } else input.removeAttribute("aria-activedescendant");
    }
    function pick(i) {
      var item = items[i];
      close();
      if (item) opts.choose(item);
    }
    function show(found) {
      items = found;
      list.textContent = "";
      found.forEach(function (it, i) {
        var li = document.createElement("li");
        li.id = id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var main = document.createElement("span");
        main.className = "label";
        main.textContent = it.label;
        li.appendChild(main);
        if (it.detail) {
          var d = document.createElement("span");
          d.className = "detail";
          d.textContent = it.detail;
          li.appendChild(d);
        }
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
        list.appendChild(li);
      });
      list.hidden = found.length === 0;
      input.setAttribute("aria-expanded", String(found.length > 0));
      active = -1;
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      if (opts.typed) opts.typed(input.value);
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      timer = setTimeout(function () {
        asked = q;
        opts.source(q).then(function (found) { if (asked === q && input.value.trim() === q) show(found); }, function () {});
      }, 120);
    });
    input.addEventListener("keydown", function (ev) {
      if (list.hidden) return;
      if (ev.key === "ArrowDown") { ev.preventDefault(); highlight(Math.min(items.length - 1, active + 1)); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); highlight(Math.max(-1, active - 1)); }
      else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); pick(active); }
      else if (ev.key === "Escape") { ev.preventDefault(); close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    return { close: close };
  }

  function searchSource(types) {
    return function (q) {
      return fetch("/api/search?q=" + encodeURIComponent(q)).then(function (r) { return r.json(); }).then(function (hits) {
        return hits.filter(function (h) { return !types || !types.length || types.indexOf(h.type) >= 0; }).map(function (h) {
          return { label: h.label, detail: h.type, value: h.iri, href: h.page };
        });
      });
    };
  }
  window.PSKSuggest = { attach: attach, searchSource: searchSource };
})();
