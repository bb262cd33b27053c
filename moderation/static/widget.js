// The widget page's small enhancements; everything works without them.
// - tells the host page (only an allowed origin) how tall the widget is;
// - remembers name, email and website in this origin's storage when the box is ticked;
// - shows times in the reader's own time zone.
(function () {
  "use strict";
  var root = document.getElementById("comments");
  if (!root) { return; }
  var parentOrigin = root.getAttribute("data-parent-origin");
  var site = root.getAttribute("data-site");
  var storageKey = "moderation:" + site + ":author";

  // the site's custom properties, validated by the server, applied through the CSSOM
  // (allowed by the CSP, unlike an inline style)
  ["accent", "text", "muted", "background", "font", "radius"].forEach(function (name) {
    var value = document.documentElement.getAttribute("data-look-" + name);
    if (value) { document.documentElement.style.setProperty("--" + name, value); }
  });

  function reportHeight() {
    if (!parentOrigin || window.parent === window) { return; }
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    window.parent.postMessage({ type: "moderation:height", height: height, hash: location.hash }, parentOrigin);
  }
  if (window.ResizeObserver) { new ResizeObserver(reportHeight).observe(document.documentElement); }
  window.addEventListener("load", reportHeight);
  reportHeight();

  var form = document.getElementById("commentform");
  if (form) {
    var fields = ["author", "email", "url"];
    var consent = document.getElementById("wp-comment-cookies-consent");
    var saved = null;
    var storage = null;
    try { storage = window.localStorage; saved = JSON.parse(storage.getItem(storageKey) || "null"); } catch (e) { storage = null; }
    if (!storage && consent) {
      // this browser keeps no storage for embedded pages: do not offer what cannot be kept
      consent.checked = false;
      consent.closest("p").hidden = true;
    }
    if (saved) {
      fields.forEach(function (name) {
        var input = form.elements[name];
        if (input && !input.value && saved[name]) { input.value = saved[name]; }
      });
      if (consent) { consent.checked = true; }
    }
    form.addEventListener("submit", function () {
      if (!storage) { return; }
      try {
        if (consent && consent.checked) {
          var values = {};
          fields.forEach(function (name) { values[name] = form.elements[name].value; });
          storage.setItem(storageKey, JSON.stringify(values));
        } else {
          storage.removeItem(storageKey);
        }
      } catch (e) { /* quota or policy: nothing to remember then */ }
    });
    var invalid = form.querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus(); }
  }

  var locale = root.getAttribute("data-locale") || undefined;
  if (window.Intl && Intl.DateTimeFormat) {
    var format = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short" });
    Array.prototype.forEach.call(document.querySelectorAll("time[datetime]"), function (node) {
      var date = new Date(node.getAttribute("datetime"));
      if (!isNaN(date)) { node.textContent = format.format(date); node.title = date.toISOString(); }
    });
  }
})();
