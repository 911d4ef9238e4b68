/* Behaviour shared by the portal's pages, kept out of the HTML for the Content-Security-Policy (no inline
   handlers): a <select data-autosubmit> submits its form when changed; a form, or the button that submits it,
   with data-confirm="question" asks the question first, and cancelling sends nothing. Without JavaScript
   the form is sent at once: the server checks everything anyway. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
}());
