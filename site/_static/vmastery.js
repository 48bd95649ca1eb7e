/* vLLM Mastery: the symbol jump box, the symbol panel and symbol hits on the search page.
   Plain script, no framework; the symbol list is a .js file loaded on first use, so this works
   from file:// as well as from any static host. */
(function () {
  "use strict";
  var root = document.documentElement.dataset.content_root || "./";
  var loading = null;

  function symbols() {  // resolves to window.VM_SYMBOLS: [[path, [qualname, ...]], ...]
    if (window.VM_SYMBOLS) return Promise.resolve(window.VM_SYMBOLS);
    if (!loading) loading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = root + "_static/vm-symbols.js";
      script.onload = function () { resolve(window.VM_SYMBOLS || []); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
    return loading;
  }

  function find(rows, query, limit) {
    var q = query.trim().toLowerCase(), hits = [];
    if (!q) return hits;
    rows.forEach(function (row) {
      row[1].forEach(function (qual) {
        var lower = qual.toLowerCase(), name = lower.split(/\.|::/).pop(), score;
        if (name === q) score = 0;
        else if (lower === q) score = 0;
        else if (name.indexOf(q) === 0) score = 1;
        else if (lower.indexOf(q) !== -1) score = 2;
        else if ((row[0] + "::" + lower).indexOf(q) !== -1) score = 3;
        else return;
        hits.push([score, qual.length, row[0], qual]);
      });
    });
    hits.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : 1); });
    return hits.slice(0, limit);
  }

  function href(path, qual) { return root + "source/" + path + ".html#" + qual; }

  function fill(list, hits) {
    list.textContent = "";
    hits.forEach(function (hit, i) {
      var li = document.createElement("li"), a = document.createElement("a"), small = document.createElement("small");
      a.href = href(hit[2], hit[3]);
      a.textContent = hit[3];
      small.textContent = " " + hit[2];
      a.appendChild(small);
      if (i === 0) a.className = "vm-active";
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  function jumpBox() {
    var input = document.getElementById("vm-jump-input"), list = document.getElementById("vm-jump-results");
    if (!input || !list) return;
    input.addEventListener("focus", function () { symbols(); });
    input.addEventListener("input", function () {
      symbols().then(function (rows) { fill(list, find(rows, input.value, 30)); });
    });
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      symbols().then(function (rows) {
        var hits = find(rows, input.value, 1);
        if (hits.length) window.location.href = href(hits[0][2], hits[0][3]);
      });
    });
  }

  function panel() {  // click a definition's name: who references it, which pages discuss it
    var holder = document.getElementById("vm-data");
    if (!holder) return;
    var data = null;
    document.addEventListener("click", function (event) {
      var target = event.target.closest && event.target.closest("a[data-def]");
      if (!target) return;
      data = data || JSON.parse(holder.textContent);
      var qual = target.id, box = document.querySelector(".vm-panel");
      if (!box) { box = document.createElement("div"); box.className = "vm-panel"; document.body.appendChild(box); }
      box.textContent = "";
      var close = document.createElement("button");
      close.textContent = "×"; close.setAttribute("aria-label", "close");
      close.onclick = function () { box.remove(); };
      var title = document.createElement("h3");
      title.textContent = document.querySelector(".vm-src").dataset.path + "::" + qual;
      box.appendChild(close); box.appendChild(title);
      section(box, "Discussed in", data.disc[qual]);
      section(box, "Referenced by", data.refs[qual]);
    });
  }

  function section(box, heading, items) {
    var h = document.createElement("h4"), ul = document.createElement("ul");
    h.textContent = heading + " (" + (items ? items.length : 0) + ")";
    (items || []).forEach(function (item) {
      var li = document.createElement("li");
      if (item[0]) { var a = document.createElement("a"); a.href = item[0]; a.textContent = item[1]; li.appendChild(a); }
      else li.textContent = item[1];
      ul.appendChild(li);
    });
    if (!items || !items.length) { var li = document.createElement("li"); li.textContent = "none found"; ul.appendChild(li); }
    box.appendChild(h); box.appendChild(ul);
  }

  function searchPage() {  // Sphinx's search covers prose; add the symbols whose names match
    var results = document.getElementById("search-results");
    var query = new URLSearchParams(window.location.search).get("q");
    if (!results || !query) return;
    symbols().then(function (rows) {
      var hits = find(rows, query, 20);
      if (!hits.length) return;
      var box = document.createElement("div"), h = document.createElement("h2"), list = document.createElement("ol");
      box.className = "vm-symbol-hits"; h.textContent = "Symbols";
      fill(list, hits); box.appendChild(h); box.appendChild(list);
      results.parentNode.insertBefore(box, results);
    });
  }

  function start() { jumpBox(); panel(); searchPage(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
