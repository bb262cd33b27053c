// Keyboard moderation for the queue. Without JavaScript every action is a plain form.
//   j / k  next / previous      a approve   r reject   s spam   d delete
//   x      select               Enter open   ?  show the keys
(function () {
  "use strict";
  var entries = Array.prototype.slice.call(document.querySelectorAll(".entries .entry"));
  var help = document.getElementById("keyboard-help");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var current = -1;

  function focus(index) {
    if (!entries.length) { return; }
    index = Math.max(0, Math.min(entries.length - 1, index));
    if (current >= 0 && entries[current]) { entries[current].classList.remove("focused"); }
    current = index;
    entries[current].classList.add("focused");
    entries[current].focus({ preventScroll: false });
    entries[current].scrollIntoView({ block: "nearest" });
  }

  // The pending count the page last knew of (the live poll below compares with it).
  var lastPending = parseInt((document.querySelector('.count[data-status="pending"]') || {}).textContent, 10) || 0;

  function setCount(status, delta) {
    if (status === "pending") { lastPending = Math.max(0, lastPending + delta); }
    var node = document.querySelector('.count[data-status="' + status + '"]');
    if (node) { node.textContent = String(Math.max(0, parseInt(node.textContent, 10) + delta)); }
  }

  function post(url, fields) {
    var body = new URLSearchParams(Object.assign({ csrf_token: csrf ? csrf.content : "" }, fields));
    return fetch(url, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
      body: body,
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  // A decision's answer on its card: status, badge, counts, buttons, a note (with Undo).
  function show(entry, result) {
    var old = entry.querySelector(".decision-note");
    if (old) { old.remove(); }
    var note = document.createElement("p");
    note.className = "rule decision-note";
    var said = document.createElement("span");
    said.setAttribute("role", "status");
    note.appendChild(said);
    if (!result.ok) {
      said.textContent = result.data.detail || "That did not work.";
      note.className = "field-error decision-note";
      entry.querySelector(".entry-body").appendChild(note);
      return false;
    }
    var before = (entry.className.match(/status-(\w+)/) || [])[1];
    entry.dataset.changedAt = String(Date.now());  // a poll asked before this is stale for it
    entry.className = entry.className.replace(/status-\w+/, "status-" + result.data.status);
    var badge = entry.querySelector(".badge");
    if (badge) { badge.textContent = result.data.status; badge.className = "badge badge-" + result.data.status; }
    if (before) { setCount(before, -1); }
    setCount(result.data.status, 1);
    if (result.data.actions) { resetButtons(entry, result.data.actions); }
    said.textContent = result.data.message;
    if (result.data.undo_url) {
      var undo = document.createElement("button");
      undo.type = "button";
      undo.className = "link undo";
      undo.textContent = "Undo";
      undo.addEventListener("click", function () {
        post(result.data.undo_url, {}).then(function (answer) { show(entry, answer); });
      });
      note.appendChild(document.createTextNode(" "));
      note.appendChild(undo);
      window.setTimeout(function () { undo.remove(); }, 1000 * (result.data.undo_seconds || 10));
    }
    entry.querySelector(".entry-body").appendChild(note);
    return true;
  }

  function moderate(action) {
    var entry = entries[current];
    if (!entry || entry.dataset.busy) { return; }
    entry.dataset.busy = "1";
    post(entry.dataset.moderateUrl, { action: action }).then(function (result) {
      delete entry.dataset.busy;
      if (show(entry, result)) { focus(current + 1); }
    }).catch(function () { delete entry.dataset.busy; });
  }

  // After a keyboard decision the card offers the buttons of its new status.
  function resetButtons(entry, actions) {
    var box = entry.querySelector(".entry-actions");
    var forms = box ? box.querySelectorAll("form.inline") : [];
    if (!forms.length) { return; }
    var model = forms[0];
    var before = box.querySelector(".detail");
    Array.prototype.forEach.call(forms, function (form) { form.remove(); });
    actions.forEach(function (action) {
      var form = model.cloneNode(true);
      form.querySelector('input[name="action"]').value = action;
      var button = form.querySelector("button");
      button.className = "action action-" + action;
      button.textContent = action.charAt(0).toUpperCase() + action.slice(1);
      box.insertBefore(form, before);
    });
    if (!actions.length) {
      var hint = document.createElement("span");
      hint.className = "hint";
      hint.textContent = "Deleted: no further action.";
      box.insertBefore(hint, before);
    }
  }

  var keys = { a: "approve", r: "reject", s: "spam", d: "delete" };
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    // Keys belong to whatever the moderator is typing in; buttons and checkboxes only
    // keep Enter and Space (their own activation keys).
    var typing = target && (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/.test(target.type)));
    if (typing) { return; }
    if (target && /^(BUTTON|INPUT|A)$/.test(target.tagName) && (event.key === "Enter" || event.key === " ")) { return; }
    if (event.key === "?") { if (help && help.showModal) { help.showModal(); } event.preventDefault(); return; }
    if (!entries.length) { return; }
    if (event.key === "j") { focus(current + 1); event.preventDefault(); }
    else if (event.key === "k") { focus(current - 1); event.preventDefault(); }
    else if (event.key === "x" && current >= 0) {
      var box = entries[current].querySelector('input[type="checkbox"]');
      if (box) { box.checked = !box.checked; }
      event.preventDefault();
    }
    else if (event.key === "Enter" && current >= 0) { location.href = entries[current].dataset.detailUrl; }
    else if (keys[event.key] && current >= 0) { moderate(keys[event.key]); event.preventDefault(); }
  });

  // On a phone the queue's tools fold away (open at once when a mistake needs them).
  var tools = document.querySelector("details[data-fold-on-phone]");
  if (tools && window.matchMedia("(max-width: 600px)").matches && !tools.querySelector(".field-error")) {
    tools.open = false;
  }

  // Times in the moderator's own time zone; UTC, as stored, on hover.
  Array.prototype.forEach.call(document.querySelectorAll("time[datetime]"), function (node) {
    var moment = new Date(node.getAttribute("datetime"));
    if (isNaN(moment.getTime())) { return; }
    node.title = node.textContent.trim();
    node.textContent = moment.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
    node.classList.add("local");
  });

  // A decision's Undo button lasts as long as the server allows it.
  Array.prototype.forEach.call(document.querySelectorAll("form.undo[data-undo-seconds]"), function (form) {
    window.setTimeout(function () { form.hidden = true; }, 1000 * parseInt(form.dataset.undoSeconds, 10));
  });

  // Buttons that cannot be taken back ask first (the page's words say what will happen).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  // The open queue keeps its counters and the tab's title current with a light poll (an
  // ETag: an unchanged queue costs a 304), says politely when new comments wait, and never
  // reloads the list under the moderator (their place and selection stay).
  var live = document.getElementById("live-note");
  if (live && window.fetch) {
    var tag = "";
    var arrived = 0;
    var shownIds = entries.map(function (entry) { return entry.dataset.commentId; }).join(",");
    var countsUrl = live.dataset.countsUrl + (shownIds ? (live.dataset.countsUrl.indexOf("?") < 0 ? "?" : "&") + "shown=" + shownIds : "");
    var poll = function () {
      if (document.hidden) { return; }
      var asked = Date.now();
      fetch(countsUrl, {
        headers: tag ? { "If-None-Match": tag, "Accept": "application/json" } : { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        if (response.status !== 200) { return null; }
        tag = response.headers.get("ETag") || "";
        return response.json();
      }).then(function (counts) {
        if (!counts) { return; }
        // an answer asked for before a decision made here is older than the page: skip it
        var stale = entries.some(function (entry) { return parseInt(entry.dataset.changedAt || "0", 10) >= asked; });
        if (stale) { return; }
        // comments decided in another browser show their new status here (no reload)
        entries.forEach(function (entry) {
          var now = (counts.shown || {})[entry.dataset.commentId];
          var before = (entry.className.match(/status-(\w+)/) || [])[1];
          if (!now || now.status === before || entry.dataset.busy) { return; }
          show(entry, { ok: true, data: { status: now.status, actions: now.actions,
            message: "Comment " + entry.dataset.commentId + " is now " + now.status + " (decided elsewhere)." } });
        });
        delete counts.shown;
        Object.keys(counts).forEach(function (status) {
          var node = document.querySelector('.count[data-status="' + status + '"]');
          if (node) { node.textContent = String(counts[status]); }
        });
        document.title = document.title.replace(/^\(\d+\)/, "(" + counts.pending + ")");
        if (counts.pending > lastPending) {
          arrived += counts.pending - lastPending;
          live.innerHTML = "";
          var link = document.createElement("a");
          link.href = location.href;
          link.textContent = arrived + (arrived === 1 ? " new comment waits" : " new comments wait") + ": show";
          live.appendChild(link);
        }
        lastPending = counts.pending;
      }).catch(function () {});
    };
    window.setInterval(poll, parseInt(live.dataset.pollMs || "15000", 10));
  }

  var helpButton = document.querySelector("[data-keyboard-help]");
  if (helpButton && help && help.showModal) { helpButton.addEventListener("click", function () { help.showModal(); }); }
  var copyButton = document.querySelector("[data-copy-button]");
  var copySource = document.querySelector("[data-copy]");
  if (copyButton && copySource) {
    copyButton.addEventListener("click", function () {
      copySource.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(copySource.value); } else { document.execCommand("copy"); }
      copyButton.textContent = "Copied";
    });
  }
})();

// Forms that cannot be undone (deleting an integration) ask first.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
