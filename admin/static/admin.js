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
  // Under each date field: the expected format while empty, the chosen day in words once set, in
  // the staff language (the browser's own field follows the computer's locale, e.g. mm/dd/yyyy).
  function readBack(input) {
    const hint = input.nextElementSibling;
    if (!hint || !hint.classList.contains("date-hint")) return;
    if (!hint.dataset.format) hint.dataset.format = hint.textContent;
    const withTime = input.type === "datetime-local";
    const day = input.value ? new Date(input.value + (withTime ? ":00Z" : "T00:00:00Z")) : null;
    const style = {weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC"};
    if (withTime) Object.assign(style, {hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
    hint.textContent = day && !isNaN(day)
      ? new Intl.DateTimeFormat(document.documentElement.lang || "id", style).format(day)
      : hint.dataset.format;
  }
  const DATES = 'input[type="date"], input[type="datetime-local"]';
  document.querySelectorAll(DATES).forEach(readBack);
  document.addEventListener("input", function (ev) {
    if (ev.target.matches && ev.target.matches(DATES)) readBack(ev.target);
  });
})();
