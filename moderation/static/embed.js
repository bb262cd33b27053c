// Comment widget loader. Paste on a page:
//   <div id="comments" data-site="SLUG" data-thread="KEY"></div>
//   <script src="https://comments.example/embed.js" async></script>
// It replaces the div's content with an iframe of the widget that sizes itself to its
// content. Only messages from the widget's own origin and iframe are listened to.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src, location.href) : null;
  if (!base) { return; }
  var serviceOrigin = base.origin;

  function mount(container) {
    if (container.getAttribute("data-moderation-mounted")) { return; }
    var site = container.getAttribute("data-site");
    var thread = container.getAttribute("data-thread") || location.pathname;
    if (!site) { return; }
    container.setAttribute("data-moderation-mounted", "1");
    var params = new URLSearchParams({ thread: thread, origin: location.origin });
    var lang = container.getAttribute("data-lang") || document.documentElement.lang;
    if (lang) { params.set("lang", lang.slice(0, 2).toLowerCase()); }
    params.set("url", location.href.split("#")[0]);
    if (document.title) { params.set("title", document.title.slice(0, 300)); }
    var frame = document.createElement("iframe");
    frame.src = serviceOrigin + "/w/" + encodeURIComponent(site) + "?" + params.toString();
    frame.title = container.getAttribute("data-title") || "Comments";
    frame.setAttribute("loading", "lazy");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    frame.style.cssText = "width:100%;border:0;display:block;min-height:300px;overflow:hidden";
    frame.setAttribute("scrolling", "no");
    container.textContent = "";
    container.appendChild(frame);

    window.addEventListener("message", function (event) {
      if (event.origin !== serviceOrigin || event.source !== frame.contentWindow) { return; }
      var data = event.data;
      if (!data || data.type !== "moderation:height" || typeof data.height !== "number") { return; }
      frame.style.height = Math.max(100, Math.min(data.height, 1000000)) + "px";
      frame.style.minHeight = "0";
      if (data.hash && /^#(comment-\d+|respond)$/.test(data.hash) && !frame.dataset.scrolled) {
        frame.dataset.scrolled = "1";
        frame.scrollIntoView({ block: "start" });
      }
    });
  }

  function mountAll() {
    var nodes = document.querySelectorAll("#comments[data-site], [data-moderation-site]");
    Array.prototype.forEach.call(nodes, function (node) {
      if (!node.getAttribute("data-site") && node.getAttribute("data-moderation-site")) {
        node.setAttribute("data-site", node.getAttribute("data-moderation-site"));
      }
      mount(node);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
