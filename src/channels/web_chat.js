(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("send");
  var box = document.getElementById("message");
  var status = document.getElementById("status");
  var last = 0;
  var shown = {};
  var landlord = document.querySelector("main").dataset.landlord;
  var names = { resident: "You", bot: landlord, staff: landlord + " (staff)" };

  function newId() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  function clearChoices() {
    var old = log.querySelectorAll(".choices");
    for (var i = 0; i < old.length; i++) { old[i].remove(); }
  }

  function show(m, latest) {
    if (m.id && shown[m.id]) { return; }
    if (m.id) { shown[m.id] = true; last = Math.max(last, m.id); }
    var p = document.createElement("p");
    p.className = "line " + m.from;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = names[m.from] || m.from;
    p.appendChild(who);
    p.appendChild(document.createTextNode(m.text));
    if (m.attachments && m.attachments.length) {
      p.appendChild(document.createTextNode("\n[" + m.attachments.join(", ") + "]"));
    }
    log.appendChild(p);
    if (m.from !== "resident") { clearChoices(); }
    if (latest && m.choices && m.choices.length) {
      var row = document.createElement("div");
      row.className = "choices";
      row.setAttribute("role", "group");
      row.setAttribute("aria-label", "Choose an answer");
      m.choices.forEach(function (c) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = c.label;
        b.addEventListener("click", function () { send({ choice: c.key, text: c.label }); box.focus(); });
        row.appendChild(b);
      });
      log.appendChild(row);
    }
    log.scrollTop = log.scrollHeight;
  }

  function send(body) {
    body.id = newId();
    status.textContent = "";
    clearChoices();
    show({ from: "resident", text: body.text }, false);
    var attempt = function (tries) {
      return fetch("/chat/api/messages", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body)
      }).then(function (r) {
        if (r.ok) { return; }
        return r.json().then(function (e) { status.textContent = e.error || "Your message was not sent."; });
      }).catch(function () {
        if (tries > 0) { return new Promise(function (ok) { setTimeout(ok, 2000); }).then(function () { return attempt(tries - 1); }); }
        status.textContent = "Your message was not sent: there is no connection. Please try again.";
      });
    };
    return attempt(3);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = box.value;
    if (!text.trim()) { status.textContent = "Please type a message before sending."; return; }
    box.value = "";
    send({ text: text });
  });
  box.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  function listen() {
    var events = new EventSource("/chat/api/events?after=" + last);
    events.onmessage = function (e) { show(JSON.parse(e.data), true); };
  }

  fetch("/chat/api/messages", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { messages: [] }; })
    .then(function (data) {
      var ms = data.messages || [];
      ms.forEach(function (m, i) { show(m, i === ms.length - 1); });
      listen();
    })
    .catch(function () { status.textContent = "The chat could not load. Please reload the page."; });
}());
