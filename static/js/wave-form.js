/* Wave form: ticking a dimension ticks all its items, and a dimension's box shows whether all,
   some or none of its items are ticked. Without JavaScript the server treats a ticked
   dimension as "all its items", so the form works either way. */
(function () {
  "use strict";

  function items(key) {
    return document.querySelectorAll('input[data-dimension-item="' + key + '"]');
  }

  function sync(box) {
    var list = items(box.getAttribute("data-dimension"));
    var ticked = 0;
    for (var i = 0; i < list.length; i++) { if (list[i].checked) { ticked++; } }
    box.checked = list.length > 0 && ticked === list.length;
    box.indeterminate = ticked > 0 && ticked < list.length;
  }

  function setUp() {
    var boxes = document.querySelectorAll("input[data-dimension]");
    Array.prototype.forEach.call(boxes, function (box) {
      var key = box.getAttribute("data-dimension");
      box.addEventListener("change", function () {
        Array.prototype.forEach.call(items(key), function (item) { item.checked = box.checked; });
        box.indeterminate = false;
      });
      Array.prototype.forEach.call(items(key), function (item) {
        item.addEventListener("change", function () { sync(box); });
      });
      sync(box);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
