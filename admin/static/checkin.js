// Check-in desk: scan a ticket QR with the camera (jsQR) or type a code; POST it with a nonce.
// A request that fails on the network is retried with the SAME nonce, so the server answers it
// as the first time and never counts a pickup twice.
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var lang = document.querySelector(".checkin").dataset.lang || "id";
  var busy = false;
  var last = { code: null, at: 0 };
  var HOLD_MS = 4000;

  function nonce() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function setText(id, value) {
    var el = document.getElementById(id);
    el.textContent = value || "";
    return el;
  }

  function show(result) {
    var panel = document.getElementById("result");
    panel.hidden = false;
    panel.className = "result " + (result.ok ? "result-ok" : "result-bad");
    panel.dataset.outcome = result.outcome;
    setText("result-message", result.message);
    // An invalid code has no runner: no empty "Jersey / BIB" labels under it.
    document.getElementById("result-details").hidden = !(result.runner_name || result.number);
    setText("r-jersey", result.jersey_size);
    setText("r-bib", result.bib);
    setText("r-name", result.runner_name);
    setText("r-category", result.category);
    setText("r-number", result.number);
    var rep = setText("r-rep", result.representative_name);
    rep.hidden = !result.representative_name;
    document.querySelector(".r-rep-label").hidden = rep.hidden;
    showAnswers(result.answers || []);
    if (navigator.vibrate) navigator.vibrate(result.ok ? 80 : [80, 60, 80]);
    if (result.counts) updateCounts(result.counts);
  }

  // The organiser's questions marked "show at check-in": text only, never HTML.
  function showAnswers(rows) {
    var box = document.getElementById("r-answers");
    if (!box) return;
    box.textContent = "";
    rows.forEach(function (row) {
      var dt = document.createElement("dt");
      dt.textContent = row[0];
      var dd = document.createElement("dd");
      dd.textContent = row[1];
      box.appendChild(dt);
      box.appendChild(dd);
    });
    box.hidden = rows.length === 0;
  }

  function updateCounts(counts) {
    counts.forEach(function (c) {
      var row = document.querySelector('#checkin-counts tr[data-code="' + CSS.escape(c.code) + '"] .count');
      if (row) row.textContent = c.checked_in + " / " + c.paid;
    });
  }

  async function post(data) {
    for (var attempt = 1; ; attempt++) {
      try {
        var response = await fetch("/checkin/scan?lang=" + lang, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
        });
        if (response.status === 401) { window.location = "/checkin/desk"; return null; }
        if (response.ok) return await response.json();
        if (response.status < 500 || attempt >= 3) {
          return { ok: false, outcome: "error", message: "HTTP " + response.status };
        }
      } catch (err) {
        if (attempt >= 3) return { ok: false, outcome: "error", message: String(err) };
      }
      await sleep(700 * attempt);
    }
  }

  async function submit(code) {
    code = (code || "").trim();
    if (!code || busy) return;
    busy = true;
    var data = new FormData(form);
    data.set("code", code);
    data.set("nonce", nonce());
    try {
      var result = await post(data);
      if (result) show(result);
      // The same for Enter and the button: the field is emptied and ready for the next runner.
      var field = document.getElementById("code");
      if (result && result.ok) form.reset();
      field.value = "";
      field.focus();
    } finally {
      busy = false;
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit(document.getElementById("code").value);
  });

  // Camera scanning.
  var toggle = document.getElementById("scan-toggle");
  var video = document.getElementById("scan-video");
  var canvas = document.getElementById("scan-canvas");
  var stream = null;

  function stop() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.hidden = true;
    toggle.textContent = toggle.dataset.start;
  }

  function tick() {
    if (!stream) return;
    if (video.readyState === video.HAVE_ENOUGH_DATA && typeof jsQR === "function") {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      var found = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      var now = Date.now();
      // The same ticket held in front of the camera is submitted once: every frame that still
      // shows it renews the hold, so the green result never turns into a false "already".
      // It is scanned again only after it has been out of view for HOLD_MS.
      if (found && found.data) {
        var same = found.data === last.code && now - last.at < HOLD_MS;
        last = { code: found.data, at: now };
        if (!same) submit(found.data);
      }
    }
    requestAnimationFrame(tick);
  }

  toggle.addEventListener("click", async function () {
    if (stream) { stop(); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      toggle.textContent = toggle.dataset.stop;
      document.getElementById("scan-error").hidden = true;
      requestAnimationFrame(tick);
    } catch (err) {
      stop();
      document.getElementById("scan-error").hidden = false;
    }
  });
})();
