// What test_pages.py reads of each page once: its text (for English on a French page), links, POST forms.
(() => {
  const pageLanguage = document.documentElement.lang;
  // Data shown as it is (an e-mail as sent, a MIME type) is marked translate="no" or carries its
  // own language: it is not the page's prose, so it is hidden while the text is read.
  const data = [...document.body.querySelectorAll("[translate=no], [lang]")].filter(
    (el) => el.getAttribute("translate") === "no" || (el.lang && el.lang !== pageLanguage));
  const shown = data.map((el) => el.style.display);
  data.forEach((el) => { el.style.display = "none"; });
  const texts = [document.body.innerText];
  data.forEach((el, i) => { el.style.display = shown[i]; });
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], img[alt]")) {
    const marked = el.closest("[lang]");
    if (marked && marked.lang !== pageLanguage) continue;  // "English" on the EN button is right

    for (const attribute of ["aria-label", "title", "placeholder", "alt"]) {
      if (el.hasAttribute(attribute)) texts.push(el.getAttribute(attribute));
    }
  }
  for (const option of document.querySelectorAll("option")) texts.push(option.textContent);
  const links = [...document.querySelectorAll("a[href]")].map((a) => a.href);
  const forms = [...document.querySelectorAll("form")].filter((f) => (f.getAttribute("method") || "").toLowerCase() === "post").map((f) => ({
    // getAttribute: a field named "action" or "method" would shadow the form's own property
    action: new URL(f.getAttribute("action") || location.href, location.href).href, confirm: f.hasAttribute("data-confirm"),
    to: [...f.querySelectorAll("input[name=to]")].map((i) => i.value),
    // f.elements: a button outside the form tied to it by form="…" (an attachment's Remove) counts too
    buttons: [...f.elements].filter((b) => b.matches("button, input[type=submit]")).filter((b) => (b.type || "submit") === "submit").map((b) => ({
      name: b.name || "", value: b.value || "", confirm: b.hasAttribute("data-confirm"),
      text: (b.innerText || b.value || "").trim().slice(0, 40)})),
  }));
  return {text: texts.join("\n"), links, forms};
})
