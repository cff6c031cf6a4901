// The deal board: drag a card to another column, or use its "Move…" menu (keyboard).
// The server decides: a refused move (exit criteria) leaves the card where it was and
// shows what is missing.
(function () {
  "use strict";
  const board = document.querySelector("[data-board]");
  if (!board) return;
  const message = document.getElementById("board-message");
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const columns = () => Array.from(board.querySelectorAll(".board-column"));
  let dragged = null;

  function show(text, kind, link) {
    message.hidden = false;
    message.className = "board-message " + kind;
    message.textContent = text;
    if (link) {
      const a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      a.className = "btn small";
      message.append(" ", a);
    }
  }

  function askLossReason() {
    const dialog = document.getElementById("lost-dialog");
    return new Promise((resolve) => {
      dialog.addEventListener(
        "close",
        () => {
          if (dialog.returnValue !== "ok") return resolve(null);
          resolve({
            loss_reason: document.getElementById("lost-reason").value,
            loss_note: document.getElementById("lost-note").value,
          });
        },
        { once: true }
      );
      dialog.showModal();
    });
  }

  async function refreshHeaders() {
    const response = await fetch(location.href, { headers: { Accept: "text/html" } });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const column of columns()) {
      const fresh = page.querySelector(`.board-column[data-stage="${column.dataset.stage}"] header`);
      if (fresh) column.querySelector("header").innerHTML = fresh.innerHTML;
    }
  }

  async function move(card, column) {
    if (!card || !column || card.closest(".board-column") === column) return;
    const body = new URLSearchParams({ stage: column.dataset.stage, version: card.dataset.version });
    if (column.dataset.outcome === "lost") {
      const lost = await askLossReason();
      if (!lost) return;
      body.set("loss_reason", lost.loss_reason);
      body.set("loss_note", lost.loss_note);
    }
    card.classList.add("moving");
    let response;
    try {
      response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
        body,
      });
    } catch (err) {
      card.classList.remove("moving");
      show(board.dataset.offline || "Network error", "error");
      return;
    }
    const data = await response.json().catch(() => ({}));
    card.classList.remove("moving");
    if (!response.ok) {
      const editUrl = card.dataset.moveUrl.replace(/move\/$/, "edit/") + "?to=" + column.dataset.stage;
      show(data.error || response.statusText, "error",
           data.missing && data.missing.length ? { href: editUrl, text: board.dataset.fillIn || "…" } : null);
      card.focus();
      return;
    }
    card.dataset.version = data.version;
    const cards = column.querySelector("[data-drop]");
    cards.insertBefore(card, cards.firstChild);
    show(data.message, "success");
    card.focus();
    refreshHeaders();
  }

  board.addEventListener("dragstart", (e) => {
    dragged = e.target.closest(".deal-card");
    if (!dragged) return;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", dragged.dataset.deal);
  });
  board.addEventListener("dragover", (e) => {
    const column = e.target.closest(".board-column");
    if (column && dragged) {
      e.preventDefault();
      column.classList.add("drop-target");
    }
  });
  board.addEventListener("dragleave", (e) => {
    const column = e.target.closest(".board-column");
    if (column && !column.contains(e.relatedTarget)) column.classList.remove("drop-target");
  });
  board.addEventListener("drop", (e) => {
    const column = e.target.closest(".board-column");
    if (!column) return;
    e.preventDefault();
    column.classList.remove("drop-target");
    move(dragged, column);
    dragged = null;
  });

  // The keyboard and menu alternative: "Move…" lists every other stage.
  board.addEventListener("toggle", (e) => {
    const details = e.target;
    if (!details.classList || !details.classList.contains("move-menu") || !details.open) return;
    const card = details.closest(".deal-card");
    const menu = details.querySelector(".menu");
    menu.replaceChildren();
    for (const column of columns()) {
      if (column === card.closest(".board-column")) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.setAttribute("role", "menuitem");
      button.textContent = column.dataset.stageName;
      button.addEventListener("click", () => {
        details.open = false;
        move(card, column);
      });
      menu.append(button);
    }
    const first = menu.querySelector("button");
    if (first) first.focus();
  }, true);
})();
