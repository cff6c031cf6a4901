// The stage editor of the pipeline settings page: rows in, JSON out.
(function () {
  "use strict";
  const form = document.getElementById("pipeline-form");
  if (!form) return;
  const body = document.getElementById("stage-rows");
  const template = document.getElementById("stage-row");
  const criteria = JSON.parse(document.getElementById("criteria-data").textContent);
  const outcomes = JSON.parse(document.getElementById("outcomes-data").textContent);
  let stages = [];
  try {
    stages = JSON.parse(JSON.parse(document.getElementById("stages-data").textContent));
  } catch (e) {
    stages = [];
  }

  function addRow(stage) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.id = stage.id || "";
    const outcome = row.querySelector('[data-k="outcome"]');
    for (const [value, label] of outcomes) outcome.add(new Option(label, value));
    const required = row.querySelector('[data-k="required_fields"]');
    for (const [value, label] of criteria) required.add(new Option(label, value));
    row.querySelector('[data-k="phase"]').value = stage.phase || "";
    row.querySelector('[data-k="name"]').value = stage.name || "";
    for (const input of row.querySelectorAll("[data-t]")) {
      input.value = (stage.translations || {})[input.dataset.t] || "";
    }
    row.querySelector('[data-k="probability"]').value = stage.probability ?? 0;
    outcome.value = stage.outcome || "open";
    row.querySelector('[data-k="stall_days"]').value = stage.stall_days || "";
    for (const option of required.options) {
      option.selected = (stage.required_fields || []).includes(option.value);
    }
    row.querySelector('[data-k="checklist"]').value = (stage.checklist || []).join("\n");
    row.querySelector("[data-remove]").addEventListener("click", () => row.remove());
    row.querySelector("[data-up]").addEventListener("click", () => {
      if (row.previousElementSibling) body.insertBefore(row, row.previousElementSibling);
    });
    body.append(row);
  }

  stages.forEach(addRow);
  document.getElementById("add-stage").addEventListener("click", () => addRow({ outcome: "open" }));
  form.addEventListener("submit", () => {
    const rows = Array.from(body.querySelectorAll("tr")).map((row) => ({
      id: row.dataset.id ? Number(row.dataset.id) : null,
      phase: row.querySelector('[data-k="phase"]').value,
      name: row.querySelector('[data-k="name"]').value,
      translations: Object.fromEntries(
        Array.from(row.querySelectorAll("[data-t]")).map((i) => [i.dataset.t, i.value])
      ),
      probability: Number(row.querySelector('[data-k="probability"]').value || 0),
      outcome: row.querySelector('[data-k="outcome"]').value,
      stall_days: Number(row.querySelector('[data-k="stall_days"]').value) || null,
      required_fields: Array.from(row.querySelector('[data-k="required_fields"]').selectedOptions).map((o) => o.value),
      checklist: row.querySelector('[data-k="checklist"]').value.split("\n").filter((l) => l.trim()),
    }));
    document.getElementById("stages-json").value = JSON.stringify(rows);
  });
})();
