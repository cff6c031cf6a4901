// Kizuna: the little JavaScript htmx does not cover.
(function () {
  "use strict";
  // Record picker: a search box that fills a hidden input with the chosen id.
  document.addEventListener("click", function (event) {
    const choice = event.target.closest("[data-pick-id]");
    if (choice) {
      event.preventDefault();
      const picker = choice.closest(".picker");
      picker.querySelector("input[type=hidden]").value = choice.dataset.pickId;
      picker.querySelector("input[type=search]").value = choice.dataset.pickLabel;
      picker.querySelector(".search-results").innerHTML = "";
      return;
    }
    document.querySelectorAll(".search-results").forEach(function (box) {
      if (!box.parentElement.contains(event.target)) box.innerHTML = "";
    });
  });
  document.addEventListener("input", function (event) {
    const input = event.target;
    if (input.matches(".picker input[type=search]") && input.value === "") {
      input.closest(".picker").querySelector("input[type=hidden]").value = "";
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll(".search-results").forEach(function (box) { box.innerHTML = ""; });
    }
  });
})();
