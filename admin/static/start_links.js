// Event page: copy a start link to the clipboard (falls back to selecting it).
(function () {
  "use strict";
  document.addEventListener("click", async function (ev) {
    const button = ev.target.closest("button.copy-link");
    if (!button) return;
    const text = button.getAttribute("data-copy");
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const code = button.closest("li, tr").querySelector(".link-text");
      if (code) { window.getSelection().selectAllChildren(code); }
      return;
    }
    const label = button.textContent;
    button.textContent = button.getAttribute("data-done");
    setTimeout(function () { button.textContent = label; }, 1500);
  });
})();
