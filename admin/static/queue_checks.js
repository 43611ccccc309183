// OCR checks in the queue: fetch the checks beside the photo, draw the read fields on it,
// save corrections, and approve all green payments in one confirmed batch.
(function () {
  "use strict";
  const say = function (el, text, ok) {
    if (!el) { return; }
    el.textContent = text;
    el.className = "flash " + (ok ? "flash-ok" : "flash-error");
  };

  function drawBoxes(holder) {
    const photo = document.getElementById("photo");
    const data = holder.querySelector(".ocr-overlay");
    if (!photo || !data) { return; }
    const overlay = JSON.parse(data.textContent);
    if (!overlay.width || !overlay.height || !photo.src.endsWith("/" + overlay.image_id)) { return; }
    let frame = photo.parentElement;
    if (!frame.classList.contains("ocr-frame")) {
      frame = document.createElement("span");
      frame.className = "ocr-frame";
      photo.parentElement.insertBefore(frame, photo);
      frame.appendChild(photo);
    }
    frame.querySelectorAll(".ocr-box").forEach(function (b) { b.remove(); });
    overlay.boxes.forEach(function (item) {
      const [x0, y0, x1, y1] = item.box;
      const box = document.createElement("span");
      box.className = "ocr-box " + (item.ok === true ? "ok" : item.ok === false ? "bad" : "unknown");
      box.title = item.field;
      box.setAttribute("data-field", item.field);
      box.style.left = (100 * x0 / overlay.width) + "%";
      box.style.top = (100 * y0 / overlay.height) + "%";
      box.style.width = (100 * (x1 - x0) / overlay.width) + "%";
      box.style.height = (100 * (y1 - y0) / overlay.height) + "%";
      frame.appendChild(box);
    });
  }

  async function loadChecks() {
    const holder = document.getElementById("ocr-checks");
    if (!holder) { return; }
    const id = holder.getAttribute("data-payment-id");
    if (!id || holder.getAttribute("data-loaded") === id) { return; }
    holder.setAttribute("data-loaded", id);
    const res = await fetch("/admin/queue/checks/" + encodeURIComponent(id),
      {credentials: "same-origin", headers: {"X-Requested-With": "XMLHttpRequest"}});
    if (!res.ok) { holder.textContent = ""; return; }
    holder.innerHTML = await res.text();  // server-rendered, autoescaped fragment
    drawBoxes(holder);
    holder.querySelectorAll("form.ocr-correct").forEach(function (form) {
      form.addEventListener("submit", async function (ev) {
        ev.preventDefault();
        const json = await window.funrun.post(form.action, Object.fromEntries(new FormData(form).entries()));
        say(document.getElementById("queue-status"), json.message || ((document.documentElement.lang === "en" ? "Error " : "Galat ") + json.httpStatus), !!json.ok);
        if (json.ok) { holder.removeAttribute("data-loaded"); loadChecks(); }
      });
    });
  }

  const item = document.getElementById("queue-item");
  if (item) {
    new MutationObserver(function () { loadChecks(); }).observe(item, {childList: true});
    const photo = document.getElementById("photo");
    if (photo) { photo.addEventListener("load", function () { loadChecks(); }); }
    loadChecks();
  }

  const button = document.getElementById("approve-green-btn");
  const dialog = document.getElementById("approve-green-dialog");
  if (button && dialog) {
    button.addEventListener("click", function () { dialog.showModal(); });
    dialog.addEventListener("close", async function () {
      if (dialog.returnValue !== "yes") { return; }
      button.disabled = true;
      const json = await window.funrun.post("/admin/queue/approve-green",
        {ids: button.getAttribute("data-ids"), confirm: "yes"});
      say(document.getElementById("batch-status"), json.message || ((document.documentElement.lang === "en" ? "Error " : "Galat ") + json.httpStatus), !!json.ok);
      (json.approved || []).forEach(function (id) {
        const row = document.querySelector("tr[data-payment-id='" + id + "']");
        if (row) { row.classList.add("done"); }
      });
      if (!json.ok) { button.disabled = false; }
    });
  }
  document.querySelectorAll("form.auto-approve-form").forEach(function (form) {
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      if (!window.confirm(form.getAttribute("data-question"))) { return; }
      const json = await window.funrun.post(form.action, Object.fromEntries(new FormData(form).entries()));
      say(document.getElementById("batch-status"), json.message || ((document.documentElement.lang === "en" ? "Error " : "Galat ") + json.httpStatus), !!json.ok);
      if (json.ok) { window.location.reload(); }
    });
  });
})();
