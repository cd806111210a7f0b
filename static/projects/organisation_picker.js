// The consortium's organisation picker: a type-ahead search of the members (no inline script: CSP).
// Each .org-picker holds a hidden input (the organisation's id, what the form posts) and a search
// box; typing queries data-url?q=…&page=… (JSON, 20 a page) and lists name, city, SIREN and, for
// organisations that are not active members, their status. Rows added later work too (delegation).
(function () {
  "use strict";
  var DELAY = 200;
  var timers = new WeakMap();
  function parts(search) {
    var picker = search.closest(".org-picker");
    return {
      picker: picker,
      value: picker.querySelector(".org-picker-value"),
      results: picker.querySelector(".org-picker-results"),
      text: picker.dataset  // data-none, data-more, data-error: translated by the template
    };
  }

  function close(search) {
    var p = parts(search);
    p.results.hidden = true;
    p.results.textContent = "";
    search.setAttribute("aria-expanded", "false");
  }

  function label(item) {
    var text = item.name;
    if (item.city) { text += " — " + item.city; }
    if (item.siren) { text += " — SIREN " + item.siren; }
    return text;
  }

  function option(search, item) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "list-group-item list-group-item-action org-picker-option";
    button.setAttribute("role", "option");
    button.dataset.id = String(item.id);
    var name = document.createElement("strong");
    name.textContent = item.name;
    button.appendChild(name);
    var details = [item.city, item.siren ? "SIREN " + item.siren : ""].filter(Boolean).join(" · ");
    if (details) {
      var small = document.createElement("span");
      small.className = "small text-muted ms-2";
      small.textContent = details;
      button.appendChild(small);
    }
    if (!item.active) {
      var badge = document.createElement("span");
      badge.className = "badge text-bg-warning ms-2";
      badge.textContent = item.status;
      button.appendChild(badge);
    }
    button.addEventListener("click", function () {
      var p = parts(search);
      p.value.value = String(item.id);
      search.value = label(item);
      close(search);
      search.focus();
    });
    return button;
  }

  function load(search, page) {
    var p = parts(search);
    var url = p.picker.dataset.url + "?q=" + encodeURIComponent(search.value.trim()) + "&page=" + page;
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        if (page === 1) { p.results.textContent = ""; }
        var more = p.results.querySelector(".org-picker-more");
        if (more) { more.remove(); }
        data.results.forEach(function (item) { p.results.appendChild(option(search, item)); });
        if (page === 1 && data.results.length === 0) {
          var empty = document.createElement("div");
          empty.className = "list-group-item small text-muted";
          empty.textContent = p.text.none;
          p.results.appendChild(empty);
        }
        if (data.has_more) {
          var next = document.createElement("button");
          next.type = "button";
          next.className = "list-group-item list-group-item-action small text-primary org-picker-more";
          next.textContent = p.text.more;
          next.addEventListener("click", function () { load(search, data.page + 1); });
          p.results.appendChild(next);
        }
        p.results.hidden = false;
        search.setAttribute("aria-expanded", "true");
      })
      .catch(function () {
        p.results.textContent = "";
        var error = document.createElement("div");
        error.className = "list-group-item small text-danger";
        error.textContent = p.text.error;
        p.results.appendChild(error);
        p.results.hidden = false;
      });
  }

  document.addEventListener("input", function (event) {
    var search = event.target;
    if (!search.classList || !search.classList.contains("org-picker-search")) { return; }
    // Typing replaces the choice: until an organisation is picked again, the row is a non-member.
    parts(search).value.value = "";
    clearTimeout(timers.get(search));
    if (!search.value.trim()) { close(search); return; }
    timers.set(search, setTimeout(function () { load(search, 1); }, DELAY));
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var picker = target.closest ? target.closest(".org-picker") : null;
    if (!picker) { return; }
    var search = picker.querySelector(".org-picker-search");
    var options = Array.prototype.slice.call(picker.querySelectorAll(".org-picker-results button"));
    var index = options.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      options[Math.min(index + 1, options.length - 1)].focus();
    } else if (event.key === "ArrowUp" && options.length) {
      event.preventDefault();
      if (index <= 0) { search.focus(); } else { options[index - 1].focus(); }
    } else if (event.key === "Escape") {
      close(search);
      search.focus();
    } else if (event.key === "Enter" && target === search) {
      event.preventDefault(); // Enter in the search box must not submit the proposal
      if (options.length) { options[0].click(); }
    }
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll(".org-picker").forEach(function (picker) {
      if (!picker.contains(event.target)) { close(picker.querySelector(".org-picker-search")); }
    });
  });
})();
