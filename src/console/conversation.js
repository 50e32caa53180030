(function () {
  "use strict";
  var standard = document.getElementById("standard");
  if (standard) {
    standard.addEventListener("change", function () {
      if (standard.value) { document.getElementById("reply-text").value = standard.value; }
    });
  }
  var transcript = document.getElementById("transcript");
  var last = Number(transcript.dataset.last || 0);
  var events = new EventSource("/console/conversations/" + transcript.dataset.conversation + "/events?after=" + last);
  events.onmessage = function (e) {
    JSON.parse(e.data).forEach(function (line) {
      if (document.getElementById("m" + line.id)) { return; }
      var div = document.createElement("div");
      div.className = "line " + line.from;
      div.id = "m" + line.id;
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = (line.from === "resident" ? "Resident" : line.from === "staff" ? line.author : "Bot") + " · " + line.at;
      div.appendChild(who);
      div.appendChild(document.createTextNode(line.text));
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
