(function () {
  "use strict";
  // Progressive enhancement of every form that posts: sent in the background, so the page
  // keeps its scroll and whatever is typed elsewhere; a refusal is shown next to the form
  // with what was typed kept. Without this script every form posts as a plain page.

  // The refusal from the console's error page (its .refusal paragraph), or its text.
  function refusalOf(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var found = doc.querySelector(".refusal");
    return (found ? found.textContent : doc.body.textContent).trim();
  }

  // The field a refusal is about: the one whose label the words mention first ("any remedy",
  // "the decision"), so the note can sit beside it; none when the words name no field.
  function fieldNamed(form, words) {
    var text = words.toLowerCase();
    var best = null;
    var at = Infinity;
    form.querySelectorAll("label[for]").forEach(function (label) {
      var name = label.textContent.split("(")[0].trim().toLowerCase();
      var field = document.getElementById(label.htmlFor);
      var i = name ? text.indexOf(name) : -1;
      if (i >= 0 && i < at && field && form.contains(field)) { at = i; best = field; }
    });
    return best;
  }

  // The block of the form that holds `node` (its paragraph, say).
  function blockOf(form, node) {
    while (node && node.parentNode !== form) { node = node.parentNode; }
    return node;
  }

  // Shows `words` beside the field they are about (else just before the submit button),
  // once, and points that field at it.
  function refuse(form, words) {
    var note = form.querySelector(".refusal");
    if (!note) {
      note = document.createElement("p");
      note.className = "refusal";
      note.setAttribute("role", "alert");
      note.id = "refusal-" + Math.random().toString(36).slice(2);
    }
    note.textContent = words;
    form.querySelectorAll("[aria-invalid]").forEach(function (f) {
      f.removeAttribute("aria-invalid");
      f.removeAttribute("aria-describedby");
    });
    var named = fieldNamed(form, words);
    var block = named && blockOf(form, named);
    if (block) {
      form.insertBefore(note, block.nextSibling);
    } else {
      form.insertBefore(note, blockOf(form, form.querySelector("button[type=submit], button:not([type])")));
    }
    var field = named || form.querySelector("textarea, input:not([type=hidden]), select");
    if (field) {
      field.setAttribute("aria-describedby", note.id);
      field.setAttribute("aria-invalid", "true");
      field.focus({ preventScroll: true });
    }
  }

  // What was typed in each field with an id, and which details are open, outside `except`.
  function remember(except) {
    var kept = { values: {}, open: {} };
    document.querySelectorAll("main textarea[id], main input[id]:not([type=hidden]):not([type=radio]):not([type=checkbox])").forEach(function (f) {
      if (!except.contains(f) && f.value) { kept.values[f.id] = f.value; }
    });
    document.querySelectorAll("main details").forEach(function (d, i) {
      if (d.open) { kept.open[d.id || d.querySelector("summary").textContent + i] = true; }
    });
    return kept;
  }

  function restore(kept) {
    Object.keys(kept.values).forEach(function (id) {
      var f = document.getElementById(id);
      if (f && !f.value) { f.value = kept.values[id]; }
    });
    document.querySelectorAll("main details").forEach(function (d, i) {
      if (kept.open[d.id || d.querySelector("summary").textContent + i]) { d.open = true; }
    });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if ((form.method || "").toLowerCase() !== "post" || form.dataset.plain !== undefined) { return; }
    e.preventDefault();
    var button = form.querySelector("button[type=submit], button:not([type])");
    if (button) { button.disabled = true; }
    var body = new URLSearchParams(new FormData(form));
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (html) {
          if (button) { button.disabled = false; }
          if (!response.ok) { refuse(form, refusalOf(html)); return; }
          var to = new URL(response.url);
          if (to.pathname !== location.pathname) { location.href = response.url; return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var main = doc.querySelector("main");
          if (!main) { location.href = response.url; return; }
          var held = form.id === "reply" ? null : document.getElementById("reply-text");
          var kept = remember(form);
          var x = window.scrollX, y = window.scrollY;
          document.querySelector("main").replaceWith(main);
          document.title = doc.title;
          restore(kept);
          window.scrollTo(x, y);
          var reply = document.getElementById("reply-text");
          if (reply && (form.id === "reply" || !held)) { reply.focus({ preventScroll: true }); }
        });
      })
      .catch(function () {
        if (button) { button.disabled = false; }
        refuse(form, "The console could not be reached; nothing was sent. Try again in a moment.");
      });
  });
}());
