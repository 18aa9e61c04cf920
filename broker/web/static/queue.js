// The queue updates itself: the server says "queue" (server-sent events) whenever an
// alert is raised or closed, and the table body is fetched again with the same
// filters. Once a minute it is refreshed anyway, so the time left stays true.
(function () {
  "use strict";
  var table = document.getElementById("queue");
  var status = document.getElementById("queue-status");
  if (!table || !window.fetch) { return; }
  var rowsUrl = table.getAttribute("data-rows-url");
  var streamUrl = table.getAttribute("data-stream-url");
  var pending = false;
  var again = false; // a change came while a fetch was under way: fetch once more after it

  function count() {
    var body = document.getElementById("queue-rows");
    return body ? parseInt(body.getAttribute("data-count") || "0", 10) : 0;
  }

  function refresh(announce) {
    if (pending) { again = true; return; }
    pending = true;
    var before = count();
    fetch(rowsUrl + window.location.search, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { window.location.assign("/login?next=/queue"); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        var holder = document.createElement("table");
        holder.innerHTML = html;
        var fresh = holder.querySelector("tbody");
        var body = document.getElementById("queue-rows");
        if (fresh && body) { body.replaceWith(fresh); }
        var after = count();
        if (announce && after !== before) {
          status.textContent = "Queue updated: " + after + " open alert" + (after === 1 ? "" : "s") + ".";
        }
      })
      .catch(function () { /* the next event or minute tries again */ })
      .then(function () {
        pending = false;
        if (again) { again = false; refresh(announce); }
      });
  }

  if (window.EventSource) {
    var source = new EventSource(streamUrl);
    source.addEventListener("queue", function (event) {
      var body = document.getElementById("queue-rows");
      // the views' version: nothing to fetch when the table already shows it
      if (body && body.getAttribute("data-version") === event.data) { return; }
      refresh(true);
    });
  }
  window.setInterval(function () { refresh(false); }, 60000);
})();
