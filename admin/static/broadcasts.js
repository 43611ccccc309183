// Broadcasts: preview and count without leaving the form (the chosen image stays), and the
// progress page's live counts (polled JSON). Without JavaScript both pages still work.
(function () {
  "use strict";
  const form = document.getElementById("broadcast-form");
  if (form) {
    const segment = form.querySelector("#segment");
    const event = form.querySelector("#event_id");
    const category = form.querySelector("#category_id");
    const syncCategory = function () {
      category.closest("div").hidden = segment.value !== "category";
      for (const option of category.options) {
        option.hidden = option.dataset.event !== event.value;
      }
      if (category.selectedOptions[0] && category.selectedOptions[0].hidden) {
        const first = Array.from(category.options).find(function (o) { return !o.hidden; });
        category.value = first ? first.value : "";
      }
    };
    segment.addEventListener("change", syncCategory);
    event.addEventListener("change", syncCategory);
    syncCategory();
    const image = form.querySelector("#image");
    const shown = document.getElementById("image-preview");
    image.addEventListener("change", function () {
      const file = image.files && image.files[0];
      shown.hidden = !file;
      if (file) { shown.src = URL.createObjectURL(file); }
    });
    document.getElementById("preview-btn").addEventListener("click", async function (ev) {
      ev.preventDefault();
      if (!form.reportValidity()) { return; }
      const data = new FormData(form);
      data.delete("image");
      const result = await window.funrun.post("/admin/broadcasts/preview", data);
      const target = document.getElementById("preview");
      if (result.html) { target.innerHTML = result.html; return; }
      target.textContent = result.error || "?";
    });
  }
  const progress = document.getElementById("progress");
  if (progress) {
    const bar = document.getElementById("progress-bar");
    const state = document.getElementById("progress-state");
    const tick = async function () {
      let data;
      try {
        const res = await fetch(progress.dataset.url, {credentials: "same-origin",
          headers: {"Accept": "application/json"}});
        data = await res.json();
      } catch (e) { setTimeout(tick, 5000); return; }
      for (const el of progress.querySelectorAll("[data-key]")) {
        el.textContent = data[el.dataset.key];
      }
      bar.max = Math.max(data.written, 1);
      bar.value = data.sent + data.failed;
      state.textContent = data.done ? state.dataset.done :
        (data.status === "writing" ? state.dataset.writing : state.dataset.sending);
      if (!data.done) { setTimeout(tick, 2000); }
    };
    setTimeout(tick, 2000);
  }
})();
