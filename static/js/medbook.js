// MedBook's small behaviours, kept out of the HTML so a strict Content Security Policy works.
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.submit();
});

// Forms marked data-once send once: a second press while the first is on its way does nothing.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-once]");
  if (!form) return;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  form.querySelectorAll("button[type=submit]").forEach((button) => {
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
  });
});

// <time data-countdown="unix seconds">: within a day, counts down as H:MM:SS; at zero it tells the page
// (an HTMX region listening for "countdown-done" reloads itself).
function pad(n) {
  return String(n).padStart(2, "0");
}
function tick() {
  const now = Date.now() / 1000;
  document.querySelectorAll("[data-countdown]").forEach((el) => {
    const left = Math.max(0, Math.round(Number(el.dataset.countdown) - now));
    if (left >= 86400) return; // days away: the page's own wording stays
    const h = Math.floor(left / 3600);
    const m = Math.floor((left % 3600) / 60);
    el.textContent = `${h}:${pad(m)}:${pad(left % 60)}`;
    if (left === 0 && !el.dataset.done) {
      el.dataset.done = "1";
      el.dispatchEvent(new CustomEvent("countdown-done", { bubbles: true }));
    }
  });
}
setInterval(tick, 1000);
document.addEventListener("DOMContentLoaded", tick);
