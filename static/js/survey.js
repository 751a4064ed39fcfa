// Customer survey: a progress line ("7 of 16 answered") above the questions.
// Progressive enhancement only: without JavaScript the block stays hidden and the numbered
// questions ("Question 7 of 16") show the way; the form posts the same either way.
(function () {
  "use strict";
  var form = document.querySelector("form.survey-form");
  var progress = document.getElementById("survey-progress");
  if (!form || !progress) {
    return;
  }
  var total = parseInt(form.getAttribute("data-required-groups"), 10) || 0;
  // The numbered Likert questions; the optional 0-10 question is not counted.
  var groups = Array.prototype.filter.call(form.querySelectorAll("fieldset.scale"), function (group) {
    return group.querySelector(".question-number") !== null;
  }).slice(0, total);
  var text = progress.querySelector(".progress-text");
  var fill = progress.querySelector(".progress-fill");
  var template = progress.getAttribute("data-template") || "{answered} / {total}";

  function answeredCount() {
    return groups.filter(function (group) {
      return group.querySelector("input[type=radio]:checked") !== null;
    }).length;
  }

  var last = -1;
  function update() {
    var answered = answeredCount();
    if (answered === last) {
      return;  // no repeat announcement for a changed answer within the same question
    }
    last = answered;
    text.textContent = template.replace("{answered}", answered).replace("{total}", groups.length);
    fill.style.width = (groups.length ? (100 * answered) / groups.length : 0) + "%";
    progress.classList.toggle("complete", answered === groups.length);
  }

  form.addEventListener("change", update);
  // A double click sends once (the server would store one response anyway, but the customer then
  // sees "thank you" rather than "you already answered").
  var sending = false;
  form.addEventListener("submit", function (event) {
    if (sending) {
      event.preventDefault();
    }
    sending = true;
  });
  window.addEventListener("pageshow", function () {
    sending = false;  // coming back through the browser's history
  });
  progress.hidden = false;
  update();
})();
