// The product page's variant picker (templates/includes/variant_picker.html) works as a plain
// form; with JavaScript, choosing a size reloads the page at once, without the "Show" button.
(function () {
  "use strict";
  document.querySelectorAll("form.variant-picker").forEach(function (form) {
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.hidden = true;
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "variant") {
        form.submit();
      }
    });
  });
})();
