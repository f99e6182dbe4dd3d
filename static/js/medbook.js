// MedBook's small behaviours, kept out of the HTML so a strict Content Security Policy works.
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.submit();
});
