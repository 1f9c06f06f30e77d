// Progressive enhancement: when YASGUI loaded from its pinned CDN, use it; otherwise the plain form stays.
window.addEventListener("load", function () {
  var el = document.getElementById("yasgui");
  if (!el || typeof window.Yasgui === "undefined") return;
  var textarea = document.getElementById("query-text");
  var yasgui = new window.Yasgui(el, {
    requestConfig: { endpoint: el.dataset.endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
  });
  var tab = yasgui.getTab();
  if (tab && textarea) tab.setQuery(textarea.value);
  document.body.classList.add("has-yasgui");
});
