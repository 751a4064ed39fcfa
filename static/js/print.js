/* The printable report's "Print or save as PDF" button (no inline scripts: the CSP forbids them). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-print]") : null;
    if (target) { window.print(); }
  });
})();
