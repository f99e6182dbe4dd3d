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

// Today's board: the polled body keeps the sessions someone closed, and is not replaced while
// someone works in it (a button, link or field in it has the keyboard's focus).
const closedSessions = new Set();
document.addEventListener("toggle", (event) => {
  const details = event.target;
  if (!(details instanceof HTMLDetailsElement) || !details.closest("[data-board-poll]")) return;
  if (details.open) closedSessions.delete(details.id);
  else closedSessions.add(details.id);
}, true);
document.addEventListener("htmx:beforeRequest", (event) => {
  const body = event.detail.elt;
  const focused = document.activeElement;
  if (body.matches && body.matches("[data-board-poll]") && body.contains(focused)
      && focused.matches("input, select, textarea, button, a")) {
    event.preventDefault();
  }
});
document.addEventListener("htmx:afterSwap", () => {
  closedSessions.forEach((id) => {
    const details = document.getElementById(id);
    if (details) details.open = false;
  });
});
