// The staff console's one script. Every page works without it; it adds the live checks as a
// field is typed, and the warning before a session ends for want of activity (WCAG 2.2.1).
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.getAttribute("data-csrf");

  // Live checks: the same checks as `line check`, for the draft with these words, after a pause
  // in typing. The feedback region is a polite status region; it is replaced only when what it
  // says changes, so a screen reader hears a verdict or a segment count move, not every key.
  function checker(area) {
    var timer = null, asked = 0;
    var region = document.getElementById(area.getAttribute("data-feedback"));
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++asked;
        var form = new FormData();
        form.append("file", area.getAttribute("data-file"));
        form.append("key", area.getAttribute("data-key"));
        form.append("words", area.value);
        fetch(area.getAttribute("data-check-url"), {method: "POST", body: form, credentials: "same-origin",
                                                    headers: {"X-CSRFToken": csrf, "Accept": "application/json"}})
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (mine !== asked || !data.html) { return; }
            var holder = document.createElement("div");
            holder.innerHTML = data.html;
            if (holder.textContent.trim() !== region.textContent.trim()) { region.innerHTML = data.html; }
            window.lineIdle && window.lineIdle.restart();
          })
          .catch(function () {});
      }, 400);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-check-url]"), checker);

  // The idle warning, two minutes before the session ends; "Stay signed in" starts it again.
  var idle = parseInt(body.getAttribute("data-idle-seconds"), 10);
  var box = document.getElementById("idle-warning");
  if (!box || !idle) { return; }
  var warnAt = null, endAt = null, tick = null;
  var before = Math.min(120, Math.floor(idle / 2));
  function restart() {
    clearTimeout(warnAt); clearTimeout(endAt); clearInterval(tick);
    box.hidden = true;
    warnAt = setTimeout(warn, (idle - before) * 1000);
    endAt = setTimeout(function () { window.location = body.getAttribute("data-login-url"); }, idle * 1000);
  }
  function warn() {
    var left = before;
    var shown = document.getElementById("idle-left");
    box.hidden = false;
    document.getElementById("idle-stay").focus();
    tick = setInterval(function () {
      left -= 1;
      if (left % 30 === 0 || left <= 10) { shown.textContent = left + " seconds"; }
      if (left <= 0) { clearInterval(tick); }
    }, 1000);
  }
  document.getElementById("idle-stay").addEventListener("click", function () {
    fetch(body.getAttribute("data-extend-url"), {method: "POST", credentials: "same-origin",
                                                 headers: {"X-CSRFToken": csrf, "Accept": "application/json"}})
      .then(function (r) { if (r.ok) { restart(); } else { window.location = body.getAttribute("data-login-url"); } });
  });
  window.lineIdle = {restart: restart};
  restart();
})();
