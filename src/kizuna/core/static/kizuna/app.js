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

// @mentions: typing "@" and a few letters in a text box with data-mentions
// lists matching users; a click puts "@name " in place of what was typed.
(function () {
  function tokenBefore(el) {
    const upto = el.value.slice(0, el.selectionStart);
    const m = upto.match(/[@＠]([^\s@＠]{0,30})$/);
    return m ? { query: m[1], start: upto.length - m[0].length } : null;
  }
  document.addEventListener("input", function (event) {
    const el = event.target;
    if (!el.matches || !el.matches("textarea[data-mentions]")) return;
    let box = el.nextElementSibling;
    if (!box || !box.classList.contains("mention-box")) {
      box = document.createElement("div");
      box.className = "mention-box";
      el.insertAdjacentElement("afterend", box);
      box.addEventListener("click", function (e) {
        const option = e.target.closest(".mention-option");
        const token = tokenBefore(el);
        if (!option || !token) return;
        const after = el.value.slice(el.selectionStart);
        el.value = el.value.slice(0, token.start) + "@" + option.dataset.name + " " + after;
        box.innerHTML = "";
        el.focus();
      });
    }
    const token = tokenBefore(el);
    if (!token) { box.innerHTML = ""; return; }
    // Answers may arrive out of order; only the latest one is shown.
    const ticket = (box.ticket = (box.ticket || 0) + 1);
    fetch(el.dataset.mentions + "?q=" + encodeURIComponent(token.query), {
      headers: { "HX-Request": "true" },
      credentials: "same-origin",
    }).then((r) => r.text()).then((html) => {
      if (ticket === box.ticket) box.innerHTML = html;
    });
  });
})();
