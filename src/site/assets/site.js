// trellis site: an org's role list and its search. The list's rows are
// drawn from `roles-data.js` (loaded before this), which holds each role's
// row once for the whole site; the table names its roles by number, with
// their user counts here. The search keeps the rows whose role name or
// description contains the text typed, ignoring case, as
// `trellis roles --search` does; nothing is fetched.
(function () {
  "use strict";
  // Row cells in roles-data.js: search name, search description, class,
  // role, owner, cloned from, status, restrictions, description, badge;
  // all of it already escaped by trellis.
  function fill(table) {
    var spec = table.getAttribute("data-rows");
    var roles = window.trellisRoles;
    if (spec === null || !roles) { return; }
    var html = [];
    var pairs = spec === "" ? [] : spec.split(" ");
    for (var i = 0; i < pairs.length; i++) {
      var at = pairs[i].indexOf(".");
      var r = roles[+pairs[i].slice(0, at)];
      if (!r) { continue; }
      var users = +pairs[i].slice(at + 1);
      html.push("<tr" + (r[2] ? " class=\"" + r[2] + "\" aria-readonly=\"true\"" : "") +
        " data-name=\"" + r[0] + "\" data-description=\"" + r[1] + "\"><td>" + r[3] +
        "</td><td>" + r[4] + "</td><td>" + r[5] + "</td><td>" + r[6] + "</td><td>" + users +
        "</td><td>" + r[7] + "</td><td>" + r[8] + "</td><td>" + r[9] + "</td></tr>");
    }
    table.tBodies[0].innerHTML = html.join("\n");
  }
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
    var lists = document.querySelectorAll("table[data-rows]");
    for (var j = 0; j < lists.length; j++) { fill(lists[j]); }
    var inputs = document.querySelectorAll("input[data-table]");
    for (var i = 0; i < inputs.length; i++) { setup(inputs[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
