// Progress of a data export on /me/export/: asks the portal every two seconds and
// reloads the page when the export is finished. Without it, reloading does the same.
(function () {
  "use strict";
  var section = document.querySelector("[data-export-status]");
  if (!section) return;
  var url = section.getAttribute("data-export-status");
  var bar = section.querySelector("progress");
  var text = section.querySelector("[data-export-text]");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        if (data.status !== "queued" && data.status !== "building") {
          window.location.reload();
          return;
        }
        bar.value = data.percent;
        bar.textContent = data.percent + " %";
        text.textContent = text.textContent.replace(/\d+(?= %)/, String(data.percent));
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
