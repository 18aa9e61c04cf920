// Every page: move focus to an error summary or a notice that asks for attention, so
// that a screen reader user hears it first; on the decision form, agencies are chosen
// only for a share.
(function () {
  "use strict";
  var focus = document.querySelector("[data-focus-on-load]");
  if (focus) { focus.focus(); }

  var form = document.querySelector("[data-decision-form]");
  if (!form) { return; }
  var shareWith = form.querySelector("[data-share-with]");
  function update() {
    var chosen = form.querySelector("input[name=decision]:checked");
    var sharing = !chosen || chosen.value === "share";
    if (shareWith) {
      shareWith.hidden = !sharing;
    }
  }
  form.addEventListener("change", update);
  update();
})();
