/* Behaviour shared by the portal's pages, kept out of the HTML for the Content-Security-Policy (no inline
   handlers): a <select data-autosubmit> submits its form when changed. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });
}());
