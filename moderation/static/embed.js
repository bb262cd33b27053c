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
  //: The documented look of the widget: ``--comments-NAME`` on the container (its style
  //: attribute or the page's CSS); the service checks each value against a strict pattern.
  var PROPERTIES = ["accent", "text", "muted", "background", "font", "radius"];

  function parseColor(value) {
    var match = /rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)/.exec(value || "");
    if (!match || (match[4] !== undefined && parseFloat(match[4]) < 0.5)) { return null; }
    return [+match[1], +match[2], +match[3]];
  }

  // The first opaque background behind the container, as the reader sees it.
  function hostBackground(node) {
    for (; node && node.nodeType === 1; node = node.parentNode) {
      var color = parseColor(getComputedStyle(node).backgroundColor);
      if (color) { return color; }
    }
    return null;
  }

  // "auto": the host page's own colours decide where they can be read (its background,
  // else its color-scheme); a page that follows the reader's preference ("light dark")
  // leaves it to the widget's prefers-color-scheme.
  function resolveTheme(container) {
    var wanted = container.getAttribute("data-theme") || "auto";
    if (wanted === "light" || wanted === "dark") { return wanted; }
    var background = hostBackground(container);
    if (background) {
      var luminance = (0.2126 * background[0] + 0.7152 * background[1] + 0.0722 * background[2]) / 255;
      return luminance < 0.5 ? "dark" : "light";
    }
    // a transparent page is painted in its color-scheme: light unless it says otherwise
    var scheme = getComputedStyle(document.documentElement).colorScheme || "normal";
    var meta = document.querySelector('meta[name="color-scheme"]');
    if (scheme === "normal" && meta) { scheme = meta.getAttribute("content") || ""; }
    if (/dark/.test(scheme)) { return /light/.test(scheme) ? "auto" : "dark"; }
    return "light";
  }

  function lookParams(container, params) {
    var theme = resolveTheme(container);
    params.set("theme", theme);
    var style = getComputedStyle(container);
    PROPERTIES.forEach(function (name) {
      var value = style.getPropertyValue("--comments-" + name).trim();
      if (value) { params.set(name, value.slice(0, 120)); }
    });
    if (!params.has("background") && theme !== "auto") {
      // the host's own background behind the text keeps it readable in any frame
      var background = hostBackground(container);
      if (background) { params.set("background", "rgb(" + background.join(", ") + ")"); }
    }
    return theme;
  }

  // A fragment already in the page (GET /w/SITE/fragment, included by the site's server or
  // build: its root is the container, data-moderation-fragment holds its version) stays the
  // comment list; only a copy older than the service's own is brought up to date.
  function refreshFragment(container, site, thread, languages) {
    if (!window.fetch || !window.DOMParser) { return; }
    var query = new URLSearchParams({ thread: thread });
    languages.forEach(function (lang) { query.append("lang", lang); });
    var page = container.getAttribute("data-page");
    if (page && page !== "1") { query.set("page", page); }
    fetch(serviceOrigin + "/w/" + encodeURIComponent(site) + "/fragment?" + query.toString(), { credentials: "omit" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-moderation-fragment]");
        var version = fresh && fresh.getAttribute("data-moderation-fragment");
        if (!version || version === container.getAttribute("data-moderation-fragment")) { return; }
        var frame = container.querySelector("iframe");
        Array.prototype.slice.call(container.childNodes).forEach(function (node) {
          if (node !== frame) { container.removeChild(node); }
        });
        Array.prototype.forEach.call(fresh.childNodes, function (node) {
          container.insertBefore(document.importNode(node, true), frame);
        });
        container.setAttribute("data-moderation-fragment", version);
      })
      .catch(function () { /* the included copy stays */ });
  }

  // The reader's language as the page states it: the embed's data-lang, then the page's
  // own <html lang> (whole tags: "pt-BR", "zh-Hans"). The service takes the first it has,
  // then the browser's Accept-Language, then English.
  function languagesOf(container) {
    var stated = [container.getAttribute("data-lang"), document.documentElement.lang];
    var languages = [];
    stated.forEach(function (value) {
      value = (value || "").trim().slice(0, 35);
      if (value && languages.indexOf(value) < 0) { languages.push(value); }
    });
    return languages;
  }

  function mount(container) {
    if (container.getAttribute("data-moderation-mounted")) { return; }
    var site = container.getAttribute("data-site");
    var thread = container.getAttribute("data-thread") || location.pathname;
    if (!site) { return; }
    container.setAttribute("data-moderation-mounted", "1");
    var fragment = container.hasAttribute("data-moderation-fragment");
    var params = new URLSearchParams({ thread: thread, origin: location.origin });
    if (fragment) { params.set("fragment", "1"); }
    languagesOf(container).forEach(function (lang) { params.append("lang", lang); });
    params.set("url", location.href.split("#")[0]);
    if (document.title) { params.set("title", document.title.slice(0, 300)); }
    var theme = lookParams(container, params);
    var frame = document.createElement("iframe");
    frame.src = serviceOrigin + "/w/" + encodeURIComponent(site) + "?" + params.toString();
    frame.title = container.getAttribute("data-title") || "Comments";
    frame.setAttribute("loading", "lazy");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    frame.style.cssText = "width:100%;border:0;display:block;min-height:300px;overflow:hidden";
    // the same colour scheme on both sides of the frame keeps it transparent in Chromium
    frame.style.colorScheme = theme === "auto" ? "light dark" : theme;
    frame.setAttribute("scrolling", "no");
    if (!fragment) { container.textContent = ""; }
    container.appendChild(frame);

    var answered = false;
    var asked = false;
    // The widget speaks (its height) while its page runs, before the frame's load event
    // reaches this page; a frame that loaded without a word was refused (an unknown site,
    // an origin not allowed: the browser shows an empty frame). Ask the service why at
    // once and say it on the page, where the site owner will see it.
    frame.addEventListener("load", function () {
      if (answered || asked || !window.fetch) { return; }
      asked = true;
      var query = new URLSearchParams();
      params.getAll("lang").forEach(function (lang) { query.append("lang", lang); });
      var check = serviceOrigin + "/w/" + encodeURIComponent(site) + "/embed-check?" + query.toString();
      fetch(check, { credentials: "omit" })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (answered || !answer || answer.ok || typeof answer.detail !== "string") { return; }
          var notice = document.createElement("p");
          notice.className = "moderation-embed-notice";
          notice.setAttribute("role", "status");
          notice.textContent = answer.detail;
          notice.style.cssText = "border:1px solid #b32d2e;border-inline-start-width:4px;padding:.5em .75em;" +
            "background:#fcf0f1;color:#1e1e1e;font:14px/1.5 system-ui,sans-serif;margin:0";
          container.insertBefore(notice, frame);
          frame.style.display = "none";
        })
        .catch(function () { /* the service is unreachable: nothing more to say */ });
    });

    if (fragment) {
      refreshFragment(container, site, thread, params.getAll("lang"));
      // "Reply" in the fragment writes the reply in the frame's form (once it answers)
      container.addEventListener("click", function (event) {
        var link = event.target.closest && event.target.closest(".comment-reply-link[data-comment-id]");
        if (!link || !answered || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) { return; }
        event.preventDefault();
        frame.contentWindow.postMessage({
          type: "moderation:reply",
          id: link.getAttribute("data-comment-id"),
          label: link.getAttribute("aria-label") || ""
        }, serviceOrigin);
        frame.scrollIntoView({ block: "start" });
      });
    }

    window.addEventListener("message", function (event) {
      if (event.origin !== serviceOrigin || event.source !== frame.contentWindow) { return; }
      answered = true;
      var data = event.data;
      if (!data || data.type !== "moderation:height" || typeof data.height !== "number") { return; }
      frame.style.height = Math.max(100, Math.min(data.height, 1000000)) + "px";
      frame.style.minHeight = "0";
      // a comment published at once: the fragment does not hold it yet
      if (fragment && data.hash && /^#comment-\d+$/.test(data.hash) &&
          !document.getElementById(data.hash.slice(1)) && !frame.dataset.refreshed) {
        frame.dataset.refreshed = "1";
        refreshFragment(container, site, thread, params.getAll("lang"));
      }
      if (data.hash && /^#(comment-\d+|respond)$/.test(data.hash) && !frame.dataset.scrolled) {
        frame.dataset.scrolled = "1";
        frame.scrollIntoView({ block: "start" });
      }
    });
  }

  // Count placeholders: <span data-comments-count data-site="SLUG" data-thread="KEY">,
  // filled with "3 Comments" in the page's language; one request per site (100 threads).
  function fillCounts() {
    var nodes = document.querySelectorAll("[data-comments-count]");
    var fallbackSite = (document.querySelector("#comments[data-site]") || { getAttribute: function () { return ""; } }).getAttribute("data-site");
    var bySite = {};
    Array.prototype.forEach.call(nodes, function (node) {
      var site = node.getAttribute("data-site") || fallbackSite;
      var thread = node.getAttribute("data-thread");
      if (!site || !thread) { return; }
      (bySite[site] = bySite[site] || []).push(node);
    });
    var lang = (document.documentElement.lang || "").trim().slice(0, 35);
    Object.keys(bySite).forEach(function (site) {
      var keys = [];
      bySite[site].forEach(function (node) {
        var key = node.getAttribute("data-thread");
        if (keys.indexOf(key) < 0) { keys.push(key); }
      });
      for (var start = 0; start < keys.length; start += 100) {
        var query = new URLSearchParams({ labels: "1" });
        if (lang) { query.set("lang", lang); }
        keys.slice(start, start + 100).forEach(function (key) { query.append("thread", key); });
        fetch(serviceOrigin + "/api/v1/sites/" + encodeURIComponent(site) + "/counts?" + query.toString(), { credentials: "omit" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (answer) {
            if (!answer || !answer.labels) { return; }
            bySite[site].forEach(function (node) {
              var label = answer.labels[node.getAttribute("data-thread")];
              if (typeof label === "string") { node.textContent = label; }
            });
          })
          .catch(function () { /* the placeholders keep their own text */ });
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
    if (window.fetch) { fillCounts(); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
