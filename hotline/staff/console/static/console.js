// The console's only script of its own (the CSP allows scripts from this site only, nothing inline):
// every htmx request carries the page's CSRF token, as every form does.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.getAttribute("content");
  }
});
