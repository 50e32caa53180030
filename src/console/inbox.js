  // Live: staff are told when a conversation changes, without losing their place or a
  // half-filled filter; while nothing is being typed and nothing is focused, the list
  // refreshes itself.
  new EventSource("/console/events").addEventListener("changed", function () {
    var busy = document.activeElement && document.activeElement !== document.body;
    if (busy) { document.getElementById("changed").hidden = false; } else { location.reload(); }
  });
