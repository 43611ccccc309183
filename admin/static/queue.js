// Verification queue: approve/reject by fetch, then load the next item without a full reload.
(function () {
  "use strict";
  const box = document.getElementById("queue-item");
  const status = document.getElementById("queue-status");
  let busy = false;

  function current() {
    const el = box.querySelector("[data-payment-id]");
    return el ? el.getAttribute("data-payment-id") : "";
  }
  function say(text, ok) {
    status.textContent = text;
    status.className = "flash " + (ok ? "flash-ok" : "flash-error");
  }
  async function load(step, from) {
    const id = from === undefined ? current() : from;
    const url = "/admin/queue/item?step=" + step + (id ? "&current=" + encodeURIComponent(id) : "");
    const res = await fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "XMLHttpRequest"}});
    if (!res.ok) { say(status.dataset.loadError + " (" + res.status + ").", false); return; }
    box.innerHTML = await res.text();  // server-rendered, autoescaped fragment
    const el = box.querySelector("[data-pending]");
    document.getElementById("pending-count").textContent = el ? el.getAttribute("data-pending") : "0";
    bind();
  }
  async function submit(form) {
    if (busy) { return; }
    busy = true;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    try {
      const data = Object.fromEntries(new FormData(form).entries());
      const json = await window.funrun.post(form.action, data);
      say(json.message || (status.dataset.error + " " + json.httpStatus), !!json.ok);
      if (json.ok) { await load("next"); }
      else { form.querySelectorAll("button").forEach(function (b) { b.disabled = false; }); }
    } catch (e) {
      say(status.dataset.networkError, false);
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    } finally { busy = false; }
  }
  function toggleReject() {
    const rf = document.getElementById("reject-form");
    if (!rf) { return; }
    rf.classList.toggle("hidden");
    if (!rf.classList.contains("hidden")) { const r = rf.querySelector("input[name=reason]"); if (r) { r.focus(); } }
  }
  function bind() {
    const approve = document.getElementById("approve-form");
    const reject = document.getElementById("reject-form");
    if (approve) { approve.addEventListener("submit", function (ev) { ev.preventDefault(); submit(approve); }); }
    if (reject) { reject.addEventListener("submit", function (ev) { ev.preventDefault(); submit(reject); }); }
    const toggle = document.getElementById("reject-toggle");
    if (toggle) { toggle.addEventListener("click", toggleReject); }
    const prev = document.getElementById("prev-btn"), next = document.getElementById("next-btn");
    if (prev) { prev.addEventListener("click", function () { load("prev"); }); }
    if (next) { next.addEventListener("click", function () { load("next"); }); }
    const photoBox = document.getElementById("photo-box");
    if (photoBox) { photoBox.addEventListener("click", function () { photoBox.classList.toggle("zoomed"); }); }
    box.querySelectorAll(".thumbs img").forEach(function (img) {
      img.addEventListener("click", function () {
        document.getElementById("photo").src = img.getAttribute("data-full");
        box.querySelectorAll(".thumbs img").forEach(function (o) { o.classList.remove("on"); });
        img.classList.add("on");
      });
    });
  }
  document.addEventListener("keydown", function (ev) {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    const key = ev.key.toLowerCase();
    if (key === "a") { const f = document.getElementById("approve-form"); if (f) { ev.preventDefault(); submit(f); } }
    else if (key === "r") { ev.preventDefault(); toggleReject(); }
    else if (key === "j") { ev.preventDefault(); load("next"); }
    else if (key === "k") { ev.preventDefault(); load("prev"); }
  });
  bind();
})();
