/* Wave form: ticking a dimension ticks all its items, and a dimension's box shows whether all,
   some or none of its items are ticked. Without JavaScript the server treats a ticked
   dimension as "all its items", so the form works either way.
   The estimate of a customer's time on a phone follows the ticks: the server writes the minutes
   for every number of statements (perception/insights/effort.py) into data-minutes. */
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

  function plural(count, word) { return count + " " + word + (count === 1 ? "" : "s"); }

  function estimate() {
    var box = document.getElementById("wave-estimate");
    if (!box) { return; }
    var table = JSON.parse(box.getAttribute("data-minutes"));
    var statements = document.querySelectorAll('input[name="items"]:checked, input[type="hidden"][name="items"]').length;
    var nps = document.querySelector('input[name="ask_nps"]');
    var recommend = nps ? nps.checked : false;
    var minutes = (recommend ? table.recommend : table.plain)[statements];
    box.querySelector("[data-estimate-minutes]").textContent = plural(minutes, "minute");
    box.querySelector("[data-estimate-statements]").textContent = plural(statements, "statement");
    box.querySelector("[data-estimate-recommend]").hidden = !recommend;
  }

  function setUp() {
    var form = document.querySelector("form.wave-form");
    if (form) { form.addEventListener("change", estimate); }
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
    estimate();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
