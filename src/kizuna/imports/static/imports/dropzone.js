// Drag a file onto the page: it goes into the form's file input.
(function () {
  "use strict";
  function ready() {
    var zone = document.getElementById("dropzone");
    var input = document.getElementById("file-input");
    var label = document.getElementById("dropzone-name");
    if (!zone || !input) return;
    function show() {
      label.textContent = input.files.length ? input.files[0].name : "";
    }
    ["dragenter", "dragover"].forEach(function (name) {
      document.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      document.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    document.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("over");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        show();
        document.getElementById("import-upload").submit();
      }
    });
    input.addEventListener("change", show);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
