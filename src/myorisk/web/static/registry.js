// Live Total Improvement Score on the registry's follow-up form: asks the server (the domain
// code computes the TIS; nothing is stored) whenever a value changes. The form works without it.
(function () {
  "use strict";
  var form = document.getElementById("fu-form");
  if (!form || !window.fetch) { return; }
  var out = document.getElementById("tis"), text = document.getElementById("tis-text");
  var timer = null;
  function values() {
    var data = {}, els = form.elements;
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (!el.name || el.name === "csrf" || el.name === "idempotency_key") { continue; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { continue; }
      if (el.value !== "") { data[el.name] = el.value; }
    }
    return data;
  }
  function update() {
    fetch(form.getAttribute("data-preview"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": form.getAttribute("data-csrf")},
      body: JSON.stringify(values())
    }).then(function (r) { return r.json(); }).then(function (res) {
      var t = res && res.tis;
      if (!t || t.tis === null || t.tis === undefined) {
        out.textContent = "—";
        text.textContent = res && res.errors ? "Check: " + res.errors.map(function (e) {
          return e.field + " " + e.rule; }).join("; ") : "Enter the measures to see the score.";
        return;
      }
      out.textContent = String(t.tis);
      var resp = t.response === 1 ? "response" : (t.response === 0 ? "NON-RESPONSE (TIS < 20)" : "response undecided");
      text.textContent = (t.category || "undecided") + " improvement; " + resp + (t.complete ? "" : " (incomplete)");
    }).catch(function () { /* offline server: the score is shown after saving */ });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 250); });
  update();
})();
