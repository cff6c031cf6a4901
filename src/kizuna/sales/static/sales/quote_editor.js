// The quote line editor: add and remove lines, fill a line from its product,
// and keep the "issue" button from sending the form twice.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("quote-form");
    if (!form) return;
    var rows = document.getElementById("quote-line-rows");
    function changed() { form.dispatchEvent(new Event("quote-lines-changed", { bubbles: true })); }

    document.getElementById("add-quote-line").addEventListener("click", function () {
      var last = rows.querySelector("tr.quote-line:last-child");
      var row = last.cloneNode(true);
      row.querySelectorAll("input").forEach(function (input) {
        input.value = input.name === "line-quantity" ? "1" : "";
      });
      row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
      row.querySelectorAll(".errorlist").forEach(function (e) { e.remove(); });
      rows.appendChild(row);
      row.querySelector("select").focus();
    });

    rows.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-line]");
      if (!button) return;
      var row = button.closest("tr");
      if (rows.querySelectorAll("tr.quote-line").length > 1) { row.remove(); }
      else { row.querySelectorAll("input").forEach(function (i) { i.value = ""; }); }
      changed();
    });

    rows.addEventListener("change", function (event) {
      var select = event.target;
      if (select.name !== "line-product") return;
      var option = select.selectedOptions[0];
      if (!option || !option.value) return;
      var row = select.closest("tr");
      row.querySelector("[name=line-description]").value = option.dataset.name;
      row.querySelector("[name=line-unit]").value = option.dataset.unit;
      row.querySelector("[name=line-unit_price]").value = option.dataset.price;
      row.querySelector("[name=line-tax_rate]").value = option.dataset.rate;
      var currency = form.querySelector("[name=currency]");
      if (currency && option.dataset.currency) currency.value = option.dataset.currency;
    });

    // One submission per click, however often it is clicked; the server's
    // request token makes a repeated post return the same quote anyway.
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitted) { event.preventDefault(); return; }
      form.dataset.submitted = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
