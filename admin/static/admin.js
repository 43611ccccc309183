// funrun admin: tiny helpers shared by every page (no external libraries).
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  window.funrun = {
    csrf: meta ? meta.content : "",
    // POST a form-encoded body with the CSRF header; resolve to parsed JSON.
    post: async function (url, data) {
      const body = new URLSearchParams(data || {});
      const res = await fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: {"X-CSRF-Token": window.funrun.csrf, "Accept": "application/json",
                  "X-Requested-With": "XMLHttpRequest"},
      });
      let json = {};
      try { json = await res.json(); } catch (e) { json = {}; }
      json.httpStatus = res.status;
      return json;
    },
  };
  // Confirm dangerous actions declared with data-confirm.
  // On a form, or on the one submit button that needs it (e.g. "Reset to default").
  document.addEventListener("submit", function (ev) {
    const button = ev.submitter;
    const msg = (button && button.getAttribute("data-confirm")) || ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });
})();
