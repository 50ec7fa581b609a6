// Click a column heading of a table.sortable to sort by it (numbers by value; [c] and – last).
document.querySelectorAll("table.sortable th").forEach(function (th, index) {
  th.setAttribute("role", "button");
  th.setAttribute("tabindex", "0");
  th.title = "Sort by this column";
  var sort = function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return !r.classList.contains("total"); });
    var totals = Array.prototype.slice.call(body.rows).filter(function (r) { return r.classList.contains("total"); });
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var key = function (row) {
      var text = row.cells[th.cellIndex].textContent.trim();
      var n = parseFloat(text.replace(/[,%+]/g, "").replace("\u2212", "-"));
      return isNaN(n) ? (text === "[c]" || text === "\u2013" ? null : text.toLowerCase()) : n;
    };
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === null) return 1; if (y === null) return -1;
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    rows.concat(totals).forEach(function (r) { body.appendChild(r); });
  };
  th.addEventListener("click", sort);
  th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
});
