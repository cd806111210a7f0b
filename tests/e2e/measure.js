// What test_pages.py measures on each page at each width: overflow, messages, the error marker.
(() => {
  const vw = window.innerWidth;
  const doc = document.documentElement;
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += "#" + el.id;
    if (el.classList.length) name += "." + [...el.classList].slice(0, 3).join(".");
    const text = (el.innerText || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return name + " (right edge " + Math.round(el.getBoundingClientRect().right) + " px" + (text ? ", \"" + text + "\"" : "") + ")";
  };
  const scrolls = (el) => { for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX; if (o === "auto" || o === "scroll" || o === "hidden") return true; }
    return false; };
  const wide = [];
  if (doc.scrollWidth > vw + 1) {
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= vw + 1) continue;
      const parent = el.parentElement;
      if (parent && parent !== document.body && parent.getBoundingClientRect().right > vw + 1) continue;
      if (scrolls(el)) continue;
      wide.push(describe(el));
      if (wide.length >= 4) break;
    }
  }
  if (doc.scrollWidth > vw + 1 && !wide.length) {
    // Nothing visible sticks out: an absolutely positioned element escaping its scroller does.
    for (const el of document.body.querySelectorAll("*")) {
      if (el.getBoundingClientRect().right > vw + 1 && getComputedStyle(el).position === "absolute") {
        wide.push(describe(el) + " [absolute]");
        if (wide.length >= 2) break;
      }
    }
  }
  const alerts = [...document.querySelectorAll(".alert")].map((el) => ({
    classes: [...el.classList], role: el.getAttribute("role") || "",
    background: getComputedStyle(el).backgroundColor, text: (el.innerText || "").trim().slice(0, 80),
  }));
  return {scrollWidth: doc.scrollWidth, width: vw, wide, alerts,
          portalError: !!document.querySelector("main[data-portal-error]"),
          navHeight: document.querySelector("nav.navbar") ? document.querySelector("nav.navbar").offsetHeight : 0,
          height: doc.scrollHeight};
})
