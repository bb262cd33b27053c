// The widget page's small enhancements; everything works without them.
// - tells the host page (only an allowed origin) how tall the widget is;
// - remembers name, email and website in this origin's storage when the box is ticked;
// - shows times in the reader's own time zone;
// - replies in place: the form moves under the comment answered, "Cancel reply" puts it back;
// - remembers the order the reader chose for the comments (this origin's storage);
// - keeps the edit keys of the reader's comments and offers "Edit" on them while the site
//   allows (the keys are kept like the preview keys below);
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

  // --- the reader's order of comments: the ?sort= links work alone; the choice is kept ---
  var sortName = "moderation:" + site + ":sort";
  var sortStore = null;
  try { sortStore = window.localStorage; sortStore.getItem(sortName); } catch (e) { sortStore = null; }
  if (sortStore) {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest(".comments-order a[data-sort]");
      if (!link) { return; }
      try { sortStore.setItem(sortName, link.getAttribute("data-sort")); } catch (e) { /* kept for this page only */ }
    });
    var chosen = null;
    try { chosen = sortStore.getItem(sortName); } catch (e) { chosen = null; }
    var query = new URLSearchParams(location.search);
    if ((chosen === "oldest" || chosen === "newest") && !query.has("sort") &&
        chosen !== root.getAttribute("data-sort") && document.querySelector(".comments-order")) {
      query.set("sort", chosen);
      query.delete("cpage");
      location.replace(location.pathname + "?" + query.toString() + location.hash);
      return;
    }
  }

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

  // --- the author's edit keys: "Edit" on their own comments while the window lasts -----
  var editBase = root.getAttribute("data-edit-url");
  if (editBase) {
    var editsName = "moderation:" + site + ":edits:" + thread;
    var readEdits = function () {
      var held;
      try { held = keep ? JSON.parse(keep.getItem(editsName) || "[]") : heldInName()[editsName]; } catch (e) { held = []; }
      return Array.isArray(held) ? held.filter(function (entry) {
        return entry && typeof entry.key === "string" && typeof entry.id === "string" && Date.parse(entry.until) > Date.now();
      }) : [];
    };
    var writeEdits = function (entries) {
      entries = entries.slice(-20);
      try {
        if (keep) { keep.setItem(editsName, JSON.stringify(entries)); return; }
        var held = heldInName();
        held[editsName] = entries;
        window.name = JSON.stringify(held);
      } catch (e) { /* nothing to keep then */ }
    };
    var entries = readEdits();
    Array.prototype.forEach.call(document.querySelectorAll(".edit-offer[data-edit-key]"), function (offer) {
      var id = offer.getAttribute("data-edit-comment");
      entries = entries.filter(function (entry) { return entry.id !== id; });
      entries.push({ id: id, key: offer.getAttribute("data-edit-key"), until: offer.getAttribute("data-edit-until") });
    });
    writeEdits(entries);
    entries.forEach(function (entry) {
      var item = document.getElementById("comment-" + entry.id);
      var body = item && item.querySelector(".comment-body");
      if (!body || body.querySelector(".comment-edit-link")) { return; }
      var holder = document.createElement("div");
      holder.className = "edit";
      var link = document.createElement("a");
      link.className = "comment-edit-link";
      link.rel = "nofollow";
      link.href = editBase + "&comment=" + encodeURIComponent(entry.id) + "&key=" + encodeURIComponent(entry.key);
      link.textContent = root.getAttribute("data-edit-label");
      holder.appendChild(link);
      var remove = document.createElement("a");
      remove.className = "comment-delete-link";
      remove.rel = "nofollow";
      remove.href = link.href + "#delete";
      remove.textContent = root.getAttribute("data-delete-label");
      holder.appendChild(document.createTextNode(" "));
      holder.appendChild(remove);
      body.appendChild(holder);
    });
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

  // --- the result of a post: focus moves to it and screen readers hear it -------------
  var announcer = document.getElementById("widget-announcer");
  var announce = function (text) {
    if (!announcer || !text) { return; }
    // changed after load, so assistive technology announces it
    setTimeout(function () { announcer.textContent = text.replace(/\s+/g, " ").trim(); }, 100);
  };
  var focusOn = function (node) {
    if (!node) { return; }
    if (!node.hasAttribute("tabindex") && !/^(A|INPUT|TEXTAREA|BUTTON|SELECT)$/.test(node.tagName)) {
      node.setAttribute("tabindex", "-1");
    }
    node.focus();
  };
  // (last: the previews are in their places by now, and moving a node takes its focus;
  // after "load": Chrome's scroll to the #comment-N fragment would take it again)
  var showResult = function () {
    var invalid = form && form.querySelector("[aria-invalid=true]");
    var notice = document.getElementById("form-notice");
    var posted = new URLSearchParams(location.search).get("posted");
    if (invalid) {
      // the first field to correct; its message is read with it (aria-describedby)
      focusOn(invalid);
      announce(notice ? notice.textContent : "");
    } else if (notice) {
      focusOn(notice);
      announce(notice.textContent);
    } else if (posted && /^\d+$/.test(posted)) {
      var result = document.getElementById("comment-" + posted);
      var waiting = result && result.querySelector(".comment-awaiting-moderation");
      focusOn(waiting || (result && result.querySelector(".comment-body")));
      announce(waiting ? waiting.textContent : (result ? root.getAttribute("data-published") : ""));
    }
  };
  if (document.readyState === "complete") { showResult(); } else {
    window.addEventListener("load", function () { setTimeout(showResult, 0); });
  }
})();
