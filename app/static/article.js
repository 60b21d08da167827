// The annotated article's behaviour: tooltips on hover and focus, kind toggles, Enter or click opens
// the fact's JSON. Loaded from a file, so the page's Content-Security-Policy allows no inline script.
"use strict";
(function () {
  const pieces = (n) => document.querySelectorAll(`.hl[data-fact="${n}"]`);
  let shown = null;

  function hide() {
    if (!shown) return;
    shown.tip.hidden = true;
    pieces(shown.n).forEach((p) => p.classList.remove("active"));
    shown = null;
  }

  function show(el) {
    const n = el.dataset.fact;
    const first = document.querySelector(`.hl[data-fact="${n}"][data-first]`);
    if (!first || first.classList.contains("off")) return;
    if (shown && shown.n === n) return;
    hide();
    const tip = document.getElementById(first.getAttribute("aria-describedby"));
    tip.style.setProperty("--c", getComputedStyle(first).getPropertyValue("--c"));
    tip.hidden = false;
    const box = el.getBoundingClientRect();
    const left = Math.max(8, Math.min(box.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8));
    tip.style.left = `${left}px`;
    tip.style.top = `${box.bottom + window.scrollY + 6}px`;
    pieces(n).forEach((p) => p.classList.add("active"));
    shown = { n, tip };
  }

  function innermost(target) {
    return target.closest(".hl:not(.off)");
  }

  function open(el) {
    const first = document.querySelector(`.hl[data-fact="${el.dataset.fact}"][data-first]`);
    if (first && !first.classList.contains("off")) window.location.href = first.dataset.href;
  }

  const text = document.querySelector(".text");
  text.addEventListener("mouseover", (e) => { const el = innermost(e.target); if (el) show(el); else hide(); });
  text.addEventListener("mouseleave", hide);
  text.addEventListener("focusin", (e) => { const el = innermost(e.target); if (el) show(el); });
  text.addEventListener("focusout", hide);
  text.addEventListener("click", (e) => { const el = innermost(e.target); if (el) open(el); });
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.matches(".hl[data-first]")) open(e.target);
    if (e.key === "Escape") hide();
  });

  document.querySelectorAll(".toggle input").forEach((box) => {
    box.addEventListener("change", () => {
      hide();
      document.querySelectorAll(`.hl.k-${box.dataset.kind}`).forEach((el) => {
        el.classList.toggle("off", !box.checked);
        if (el.dataset.first) el.tabIndex = box.checked ? 0 : -1;
      });
    });
  });
})();
