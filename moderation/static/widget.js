// The widget page's small enhancements; everything works without them.
// - tells the host page (only an allowed origin) how tall the widget is;
// - remembers name, email and website in this origin's storage when the box is ticked;
// - shows times in the reader's own time zone;
// - replies in place: the form moves under the comment answered, "Cancel reply" puts it back;
// - keeps the reader's own comments awaiting moderation in view (their preview keys kept in
//   this origin's storage; without storage, for as long as the reader stays on the page).
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

  // --- preview: the comment as it will be published (the site's format, the same sanitiser)
  var previewButton = document.getElementById("preview-button");
  var previewBox = document.getElementById("comment-preview-box");
  if (form && previewButton && previewBox && window.fetch) {
    previewButton.hidden = false;
    var previewContent = previewBox.querySelector(".comment-content");
    previewButton.addEventListener("click", function () {
      fetch(previewButton.getAttribute("data-preview-url"), {
        method: "POST",
        body: new URLSearchParams({ comment: form.elements.comment.value }),
        credentials: "omit",
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          previewBox.hidden = false;
          var failed = !answer || typeof answer.html !== "string";
          previewBox.classList.toggle("is-error", failed);
          if (failed) {
            previewContent.textContent = (answer && ((answer.errors && answer.errors.comment) || answer.detail)) || "";
          } else {
            // the service's own sanitised rendering, as the published comment will carry it
            previewContent.innerHTML = answer.html;
          }
        })
        .catch(function () { /* no preview then; posting still works */ });
    });
  }

  // --- replying in place --------------------------------------------------------------
  var respond = document.getElementById("respond");
  if (respond && form) {
    var home = document.createElement("div");
    home.id = "respond-home";
    respond.parentNode.insertBefore(home, respond);
    var parentField = form.elements.comment_parent;
    var titleText = document.getElementById("reply-title-text");

    var replyTo = function (commentId, label) {
      parentField.value = String(commentId);
      if (label) { titleText.textContent = label; }
      if (!document.getElementById("cancel-comment-reply-link")) {
        var small = document.createElement("small");
        var cancel = document.createElement("a");
        cancel.id = "cancel-comment-reply-link";
        cancel.rel = "nofollow";
        cancel.href = respond.getAttribute("data-cancel-url");
        cancel.textContent = respond.getAttribute("data-cancel");
        small.appendChild(cancel);
        titleText.parentNode.appendChild(document.createTextNode(" "));
        titleText.parentNode.appendChild(small);
      }
    };
    var moveUnder = function (commentId, label) {
      var item = document.getElementById("comment-" + commentId);
      if (!item || item.classList.contains("comment-preview")) { return false; }
      item.appendChild(respond);
      replyTo(commentId, label);
      return true;
    };
    // beside a fragment the comments are on the host page: its "Reply" links say which
    if (root.getAttribute("data-beside-fragment") && parentOrigin) {
      window.addEventListener("message", function (event) {
        var data = event.data;
        if (event.origin !== parentOrigin || event.source !== window.parent || !data ||
            data.type !== "moderation:reply" || !/^\d{1,18}$/.test(String(data.id))) { return; }
        replyTo(String(data.id), typeof data.label === "string" ? data.label.slice(0, 300) : "");
        form.elements.comment.focus({ preventScroll: true });
      });
    }
    var putBack = function () {
      var answered = document.getElementById("comment-" + parentField.value);
      home.parentNode.insertBefore(respond, home);
      parentField.value = "0";
      titleText.textContent = respond.getAttribute("data-title");
      var cancel = document.getElementById("cancel-comment-reply-link");
      if (cancel) { cancel.parentNode.parentNode.removeChild(cancel.parentNode); }
      var link = answered && answered.querySelector(".comment-reply-link");
      if (link) { link.focus({ preventScroll: true }); }
    };
    document.addEventListener("click", function (event) {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) { return; }
      var link = event.target.closest(".comment-reply-link");
      if (link) {
        var item = link.closest("li.comment");
        if (item && moveUnder(item.id.slice("comment-".length), link.getAttribute("aria-label"))) {
          event.preventDefault();
          form.elements.comment.focus({ preventScroll: true });
        }
      } else if (event.target.closest("#cancel-comment-reply-link")) {
        event.preventDefault();
        putBack();
      }
    });
    // a reply page (the link without JavaScript, or the form again after an error)
    if (parentField.value && parentField.value !== "0") { moveUnder(parentField.value, ""); }
  }

  // --- the reader's own comments awaiting moderation -----------------------------------
  var thread = root.getAttribute("data-thread") || "";
  var pendingName = "moderation:" + site + ":pending:" + thread;
  var keep = (function () {
    var stores = [];
    try { stores.push(window.localStorage); } catch (e) { /* none for embedded pages */ }
    try { stores.push(window.sessionStorage); } catch (e) { /* none either */ }
    for (var i = 0; i < stores.length; i++) {
      try {
        stores[i].setItem(pendingName + ":probe", "1");
        stores[i].removeItem(pendingName + ":probe");
        return stores[i];
      } catch (e) { /* refused: try the next */ }
    }
    return null;
  })();
  // without storage the frame's name keeps them: it lives as long as the frame (this visit)
  var heldInName = function () {
    try {
      var held = JSON.parse(window.name || "{}");
      return held && typeof held === "object" && !Array.isArray(held) ? held : {};
    } catch (e) { return {}; }
  };
  var readKeys = function () {
    var keys;
    try { keys = keep ? JSON.parse(keep.getItem(pendingName) || "[]") : heldInName()[pendingName]; } catch (e) { keys = []; }
    return Array.isArray(keys) ? keys.filter(function (key) { return typeof key === "string"; }) : [];
  };
  var writeKeys = function (keys) {
    keys = keys.slice(-20);
    try {
      if (keep) {
        if (keys.length) { keep.setItem(pendingName, JSON.stringify(keys)); } else { keep.removeItem(pendingName); }
        return;
      }
      var held = heldInName();
      held[pendingName] = keys;
      window.name = JSON.stringify(held);
    } catch (e) { /* nothing to keep then */ }
  };
  var previewsBlock = document.getElementById("comment-previews");

  var placePreviews = function () {
    var items = previewsBlock.querySelectorAll("li.comment-preview");
    Array.prototype.forEach.call(items, function (item) {
      var parent = document.getElementById("comment-" + item.getAttribute("data-parent"));
      if (!parent || parent.classList.contains("comment-preview")) { return; }
      var depth = parseInt((/depth-(\d+)/.exec(parent.className) || [0, 1])[1], 10) + 1;
      item.className = item.className.replace(/depth-\d+/, "depth-" + depth);
      var after = parent;
      for (var next = parent.nextElementSibling; next; next = next.nextElementSibling) {
        var nextDepth = parseInt((/depth-(\d+)/.exec(next.className) || [0, 1])[1], 10);
        if (nextDepth < depth) { break; }
        after = next;
      }
      after.parentNode.insertBefore(item, after.nextSibling);
    });
  };
  var showPreviews = function () {
    var shown = document.querySelectorAll("li.comment-preview");
    if (!shown.length) { return; }
    previewsBlock.hidden = false;
    var empty = document.querySelector(".no-comments-yet");
    if (empty) { empty.parentNode.removeChild(empty); }
    placePreviews();
  };
  if (previewsBlock) {
    var shownKeys = Array.prototype.map.call(
      document.querySelectorAll("li.comment-preview[data-preview-key]"),
      function (item) { return item.getAttribute("data-preview-key"); }
    );
    var known = readKeys();
    shownKeys.forEach(function (key) { if (known.indexOf(key) < 0) { known.push(key); } });
    writeKeys(known);
    showPreviews();
    var missing = known.filter(function (key) { return shownKeys.indexOf(key) < 0; });
    if (missing.length && window.fetch && window.DOMParser) {
      var query = new URLSearchParams(location.search);
      ["unapproved", "moderation-hash", "replytocom", "cpage", "key"].forEach(function (name) { query.delete(name); });
      missing.forEach(function (key) { query.append("key", key); });
      fetch(location.pathname.replace(/\/?$/, "/pending") + "?" + query.toString(), { credentials: "omit" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var fetched = new DOMParser().parseFromString(html, "text/html").getElementById("comment-previews");
          if (!fetched) { return; }
          var list = previewsBlock.querySelector("ol");
          var heading = fetched.querySelector(".comments-title");
          if (heading && !document.querySelector(".comments-title")) {
            previewsBlock.insertBefore(document.importNode(heading, true), previewsBlock.firstChild);
          }
          var alive = shownKeys.slice();
          Array.prototype.forEach.call(fetched.querySelectorAll("li.comment-preview"), function (item) {
            alive.push(item.getAttribute("data-preview-key"));
            if (!document.getElementById(item.id)) { list.appendChild(document.importNode(item, true)); }
          });
          writeKeys(alive);
          showPreviews();
          formatTimes();
        })
        .catch(function () { /* the previews stay as they were */ });
    }
  }

  var locale = root.getAttribute("data-locale") || undefined;
  function formatTimes() {
    if (!window.Intl || !Intl.DateTimeFormat) { return; }
    var format = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeStyle: "short" });
    Array.prototype.forEach.call(document.querySelectorAll("time[datetime]"), function (node) {
      var date = new Date(node.getAttribute("datetime"));
      if (!isNaN(date)) { node.textContent = format.format(date); node.title = date.toISOString(); }
    });
  }
  formatTimes();
})();
