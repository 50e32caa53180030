(function () {
  "use strict";
  // Looked up afresh each time: forms.js replaces the page's content after an action.
  function byId(id) { return document.getElementById(id); }

  // A standard message goes in at the cursor; what was typed stays.
  document.addEventListener("change", function (e) {
    var standard = e.target;
    if (standard.id !== "standard" || !standard.value) { return; }
    var text = byId("reply-text");
    var start = text.selectionStart, end = text.selectionEnd;
    text.setRangeText(standard.value, start, end, "end");
    standard.value = "";
    text.focus();
  });

  // Ctrl+Enter (or Cmd+Enter) sends the reply, through the same checks as the button.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) { return; }
    var form = e.target.form;
    if (e.target.tagName !== "TEXTAREA" || !form) { return; }
    e.preventDefault();
    if (form.reportValidity()) { form.requestSubmit(); }
  });

  var start = byId("transcript");
  var last = Number(start.dataset.last || 0);
  var events = new EventSource("/console/conversations/" + start.dataset.conversation + "/events?after=" + last);
  events.onmessage = function (e) {
    var transcript = byId("transcript");
    JSON.parse(e.data).forEach(function (line) {
      if (byId("m" + line.id)) { return; }
      var div = document.createElement("div");
      div.className = "line " + line.from;
      div.id = "m" + line.id;
      var who = document.createElement("div");
      who.className = "who";
      var name = line.from === "resident" ? (transcript.dataset.resident || "Resident")
        : line.from === "staff" ? line.author : "Bot";
      who.appendChild(document.createTextNode(name + " · "));
      var time = document.createElement("time");
      time.dateTime = line.at;
      time.title = line.at;
      time.textContent = line.when;
      who.appendChild(time);
      div.appendChild(who);
      var text = document.createElement("div");
      text.className = "text";
      text.textContent = line.text;
      div.appendChild(text);
      // A web chat file is named "kind name (token)": a link to it; others as they are.
      (line.attachments || []).forEach(function (a) {
        var p = document.createElement("p");
        p.className = "file";
        var token = /\(([0-9a-f]{32})\)$/.exec(a);
        if (token) {
          var link = document.createElement("a");
          link.href = "/console/files/" + token[1];
          link.textContent = a.slice(0, token.index).trim();
          p.appendChild(link);
        } else {
          p.textContent = "[" + a + "]";
        }
        div.appendChild(p);
      });
      transcript.appendChild(div);
    });
  };
}());
