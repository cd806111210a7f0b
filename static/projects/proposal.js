// Adds an empty consortium row to the partner formset (no inline script: CSP).
(function () {
  "use strict";
  var button = document.getElementById("add-partner");
  var template = document.getElementById("partner-template");
  var container = document.getElementById("partner-forms");
  var total = document.getElementById("id_partners-TOTAL_FORMS");
  if (!button || !template || !container || !total) {
    return;
  }
  button.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    container.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
  });
})();
