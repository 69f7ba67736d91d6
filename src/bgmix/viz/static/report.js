/* bgmix report: sortable tables and videos played in step. No dependencies. */
(function () {
  "use strict";

  // ---------------------------------------------------------------- sorting
  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    var raw = cell ? cell.getAttribute("data-value") : "";
    if (raw === null) { raw = cell.textContent; }
    if (!numeric) { return raw.toLowerCase(); }
    return raw === "" ? null : parseFloat(raw);
  }

  function sortTable(table, th) {
    var heads = Array.prototype.slice.call(th.parentNode.children);
    var index = heads.indexOf(th);
    var numeric = th.getAttribute("data-sort") === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      if (x === y) { return 0; }
      if (x === null) { return 1; }      // undefined values last, whatever the order
      if (y === null) { return -1; }
      var c = x < y ? -1 : 1;
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th[data-sort]").forEach(function (th) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortTable(table, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(table, th); }
      });
    });
  });

  // ---------------------------------------------------------------- lazy posters
  // A poster is fetched only when its video comes near the screen, so a report of
  // hundreds of videos loads little more than its tables.
  function showPoster(v) {
    if (v.dataset.poster && !v.getAttribute("poster")) { v.poster = v.dataset.poster; }
  }
  var lazy = document.querySelectorAll("video[data-poster]");
  if ("IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { showPoster(e.target); observer.unobserve(e.target); }
      });
    }, { rootMargin: "400px" });
    lazy.forEach(function (v) { observer.observe(v); });
  } else {
    lazy.forEach(showPoster);
  }

  // ---------------------------------------------------------------- videos in step
  var DRIFT = 0.12;  // seconds a follower may lag or lead before it is moved

  function SyncGroup(root) {
    this.videos = Array.prototype.slice.call(root.querySelectorAll("video"));
    this.button = root.querySelector(".play-all");
    this.leader = this.videos[0];
    var self = this;
    this.button.addEventListener("click", function () { self.toggle(); });
    root.querySelector(".restart-all").addEventListener("click", function () { self.seek(0, true); });
    this.leader.addEventListener("timeupdate", function () { self.align(); });
    this.leader.addEventListener("ended", function () { self.pauseAll(); });
  }

  SyncGroup.prototype.playing = function () {
    return this.videos.some(function (v) { return !v.paused && !v.ended; });
  };

  SyncGroup.prototype.toggle = function () {
    if (this.playing()) { this.pauseAll(); } else { this.playAll(); }
  };

  SyncGroup.prototype.pauseAll = function () {
    this.videos.forEach(function (v) { v.pause(); });
    this.button.textContent = "Play all in step";
  };

  SyncGroup.prototype.playAll = function () {
    var t = this.leader.ended ? 0 : this.leader.currentTime;
    this.videos.forEach(function (v) {
      if (v.readyState === 0) { v.preload = "auto"; }
      v.currentTime = t;
      var p = v.play();
      if (p && p.catch) { p.catch(function () {}); }
    });
    this.button.textContent = "Pause all";
  };

  SyncGroup.prototype.seek = function (t, play) {
    this.videos.forEach(function (v) { v.currentTime = t; });
    if (play) { this.playAll(); }
  };

  SyncGroup.prototype.align = function () {
    var t = this.leader.currentTime;
    this.videos.forEach(function (v) {
      if (v !== this.leader && !v.paused && Math.abs(v.currentTime - t) > DRIFT && t < v.duration) {
        v.currentTime = t;
      }
    }, this);
  };

  window.bgmixSyncGroups = Array.prototype.map.call(
    document.querySelectorAll(".sync-group"), function (root) { return new SyncGroup(root); });
})();
