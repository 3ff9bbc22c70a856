// trellis site: the role search of an org's page. It keeps the rows whose
// role name or description contains the text typed, ignoring case, as
// `trellis roles --search` does; nothing is fetched.
(function () {
  "use strict";
  function setup(input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    var count = document.getElementById(input.getAttribute("data-count"));
    if (!table) { return; }
    var rows = table.querySelectorAll("tbody tr");
    function apply() {
      var needle = input.value.toLowerCase();
      var shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var row = rows[i];
        var name = (row.getAttribute("data-name") || "").toLowerCase();
        var desc = (row.getAttribute("data-description") || "").toLowerCase();
        var hit = needle === "" || name.indexOf(needle) !== -1 || desc.indexOf(needle) !== -1;
        row.hidden = !hit;
        if (hit) { shown++; }
      }
      if (count) { count.textContent = shown + " of " + rows.length; }
    }
    input.addEventListener("input", apply);
    apply();
  }
  function start() {
    var inputs = document.querySelectorAll("input[data-table]");
    for (var i = 0; i < inputs.length; i++) { setup(inputs[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
