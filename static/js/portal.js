// Layout helpers every page gets (a static script: the CSP forbids inline ones).
// Every table of the portal scrolls inside its own box instead of widening the page on a
// phone: a table not already inside a .table-responsive gets wrapped in one. Templates may
// still wrap their tables themselves; the admin has its own scrolling and is left alone.
(function () {
  "use strict";
  function wrapTables() {
    var tables = document.querySelectorAll("main table");
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      if (table.closest(".table-responsive")) {
        continue;
      }
      var box = document.createElement("div");
      box.className = "table-responsive";
      table.parentNode.insertBefore(box, table);
      box.appendChild(table);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wrapTables);
  } else {
    wrapTables();
  }
})();
