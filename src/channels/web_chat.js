(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("send");
  var box = document.getElementById("message");
  var fileInput = document.getElementById("file");
  var status = document.getElementById("status");
  var last = 0;
  var shown = {};
  var typing = null;
  var typingTimer = null;
  var landlord = document.querySelector("main").dataset.landlord;
  var LARGEST_FILE = 10 * 1024 * 1024;
  var TOO_BIG = "That file is too big to send here (10 MB at most). Please send a smaller photo, or a few pages at a time.";

  function newId() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  // The newest line and its buttons in view, after every change to the list.
  function toEnd() { log.scrollTop = log.scrollHeight; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // HH:MM, with the date in front when it is not today.
  function when(at) {
    var d = at ? new Date(at) : new Date();
    var time = pad(d.getHours()) + ":" + pad(d.getMinutes());
    if (d.toDateString() === new Date().toDateString()) { return time; }
    return d.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" }) + ", " + time;
  }

  function who(m) {
    if (m.from === "resident") { return "You"; }
    if (m.from === "staff") { return (m.name || landlord) + " (staff)"; }
    return landlord;
  }

  function clearChoices() {
    var old = log.querySelectorAll(".choices");
    for (var i = 0; i < old.length; i++) { old[i].remove(); }
  }

  function stopTyping() {
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
    if (typing) { typing.remove(); typing = null; }
  }

  // "…" while the reply is on its way: until it arrives, or 10 seconds.
  function startTyping() {
    stopTyping();
    typing = document.createElement("p");
    typing.className = "line bot typing";
    typing.setAttribute("aria-label", landlord + " is replying");
    typing.textContent = "…";
    log.appendChild(typing);
    typingTimer = setTimeout(stopTyping, 10000);
    toEnd();
  }

  function line(m) {
    var p = document.createElement("p");
    p.className = "line " + m.from;
    var name = document.createElement("span");
    name.className = "who";
    name.textContent = who(m);
    p.appendChild(name);
    if (m.text) { p.appendChild(document.createTextNode(m.text)); }
    (m.attachments || []).forEach(function (a) {
      var f = document.createElement("span");
      f.className = "file";
      f.textContent = "File: " + a;
      p.appendChild(f);
    });
    var t = document.createElement("time");
    t.className = "when";
    if (m.at) { t.setAttribute("datetime", m.at); }
    t.textContent = when(m.at);
    p.appendChild(t);
    return p;
  }

  function show(m, latest) {
    if (m.id && shown[m.id]) { return; }
    if (m.id) { shown[m.id] = true; last = Math.max(last, m.id); }
    if (m.from !== "resident") { stopTyping(); clearChoices(); }
    log.appendChild(line(m));
    if (latest && m.choices && m.choices.length) {
      var row = document.createElement("div");
      row.className = "choices";
      row.setAttribute("role", "group");
      row.setAttribute("aria-label", "Choose an answer");
      m.choices.forEach(function (c) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = c.label;
        b.addEventListener("click", function () { say({ choice: c.key, text: c.label }); box.focus(); });
        row.appendChild(b);
      });
      log.appendChild(row);
    }
    toEnd();
  }

  // The resident's own line, marked "Sending…" until the record has it.
  function pending(text, fileName) {
    var p = line({ from: "resident", text: text, attachments: fileName ? [fileName] : [] });
    var state = document.createElement("span");
    state.className = "state";
    state.textContent = "Sending…";
    p.appendChild(state);
    log.appendChild(p);
    toEnd();
    return { line: p, state: state };
  }

  function sent(mark) {
    mark.line.classList.remove("failed");
    mark.state.remove();
    startTyping();
  }

  // Not sent: the words stay on the line, and a tap sends them again (with the same id, so
  // nothing is recorded twice).
  function failed(mark, again) {
    mark.line.classList.add("failed");
    mark.state.textContent = "";
    var b = document.createElement("button");
    b.type = "button";
    b.className = "retry";
    b.textContent = "Not sent – tap to retry";
    b.addEventListener("click", function () {
      b.remove();
      mark.state.textContent = "Sending…";
      again();
    });
    mark.state.appendChild(b);
    toEnd();
  }

  // Posts, trying again on a lost connection; a refusal the resident must act on (too big,
  // wrong type) takes the line away and says why.
  function deliver(request, mark, again) {
    var attempt = function (tries) {
      return fetch(request.url, request.init).then(function (r) {
        if (r.ok) { sent(mark); return; }
        return r.json().catch(function () { return {}; }).then(function (e) {
          status.textContent = e.error || "Your message was not sent.";
          if (r.status === 429 || r.status >= 500) { failed(mark, again); } else { mark.line.remove(); }
        });
      }).catch(function () {
        if (tries > 0) { return new Promise(function (ok) { setTimeout(ok, 2000); }).then(function () { return attempt(tries - 1); }); }
        status.textContent = "Your message was not sent: there is no connection.";
        failed(mark, again);
      });
    };
    return attempt(3);
  }

  function say(body) {
    body.id = newId();
    status.textContent = "";
    clearChoices();
    var mark = pending(body.text, null);
    var request = {
      url: "/chat/api/messages",
      init: {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body)
      }
    };
    var again = function () { deliver(request, mark, again); };
    again();
  }

  function sendFile(file, caption) {
    status.textContent = "";
    if (file.size > LARGEST_FILE) { status.textContent = TOO_BIG; return; }
    clearChoices();
    var mark = pending(caption, file.name);
    var headers = {
      "Content-Type": "application/octet-stream",
      "X-File-Name": encodeURIComponent(file.name),
      "X-Message-Id": newId()
    };
    if (caption) { headers["X-Caption"] = encodeURIComponent(caption); }
    var request = {
      url: "/chat/api/attachments",
      init: { method: "POST", credentials: "same-origin", headers: headers, body: file }
    };
    var again = function () { deliver(request, mark, again); };
    again();
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = box.value;
    if (!text.trim()) { status.textContent = "Please type a message before sending."; return; }
    box.value = "";
    say({ text: text });
  });
  box.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file) { return; }
    var caption = box.value.trim() ? box.value : "";
    box.value = "";
    fileInput.value = "";
    sendFile(file, caption);
  });

  // The greeting, the emergency numbers and, out of hours, when the office opens.
  function intro(o) {
    var d = document.createElement("div");
    d.className = "line intro";
    var g = document.createElement("p");
    g.textContent = o.greeting;
    d.appendChild(g);
    var list = document.createElement("ul");
    list.setAttribute("aria-label", "Emergency numbers");
    (o.emergency || []).forEach(function (e) {
      var li = document.createElement("li");
      li.appendChild(document.createTextNode(e.when + ": "));
      var a = document.createElement("a");
      a.href = "tel:" + e.phone.replace(/\s+/g, "");
      a.textContent = e.phone;
      li.appendChild(a);
      list.appendChild(li);
    });
    d.appendChild(list);
    if (o.out_of_hours) {
      var c = document.createElement("p");
      c.className = "closed";
      c.textContent = o.out_of_hours;
      d.appendChild(c);
    }
    log.insertBefore(d, log.firstChild);
    toEnd();
  }

  function listen() {
    var events = new EventSource("/chat/api/events?after=" + last);
    events.onmessage = function (e) { show(JSON.parse(e.data), true); };
  }

  fetch("/chat/api/opening", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (o) { if (o) { intro(o); } })
    .catch(function () { return null; });

  fetch("/chat/api/messages", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
    .then(function (data) {
      var ms = data.messages || [];
      ms.forEach(function (m, i) { show(m, i === ms.length - 1); });
      // History opens at the latest message.
      toEnd();
      listen();
    })
    .catch(function () { status.textContent = "The chat could not load. Please reload the page."; });
}());
