(function () {
  "use strict";
  // Live: the tab's title counts the open alerts; an urgent alert may beep (off unless this
  // browser's member of staff turned it on); staff are told when a conversation changes,
  // without losing their place or a half-filled filter; while nothing is being typed and
  // nothing is focused, the list refreshes itself.
  var SOUND = "intake.console.alertSound";
  var section = document.getElementById("alerts");
  var urgent = Number(section.dataset.urgent || 0);
  var toggle = document.getElementById("alert-sound");
  toggle.checked = localStorage.getItem(SOUND) === "on";
  toggle.addEventListener("change", function () {
    localStorage.setItem(SOUND, toggle.checked ? "on" : "off");
    if (toggle.checked) { beep(); }
  });

  // A short two-tone beep made by Web Audio: no sound file to fetch.
  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    var audio = new Context();
    [880, 660].forEach(function (pitch, i) {
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = pitch;
      gain.gain.value = 0.2;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start(audio.currentTime + i * 0.18);
      tone.stop(audio.currentTime + i * 0.18 + 0.15);
    });
    setTimeout(function () { audio.close(); }, 600);
  }

  function title(open) {
    var bare = document.title.replace(/^\(\d+\) /, "");
    document.title = open > 0 ? "(" + open + ") " + bare : bare;
  }

  new EventSource("/console/events").addEventListener("changed", function (e) {
    var now = JSON.parse(e.data);
    title(now.alerts);
    var louder = now.urgent > urgent && toggle.checked;
    if (louder) { beep(); }
    urgent = now.urgent;
    var busy = document.activeElement && document.activeElement !== document.body;
    if (busy) {
      document.getElementById("changed").hidden = false;
    } else {
      // After the beep has been heard.
      setTimeout(function () { location.reload(); }, louder ? 500 : 0);
    }
  });
}());
