// The curbside queue refreshes itself: every few seconds it fetches the rows again and swaps them
// in. A row where staff are typing (a pickup code, a till receipt, a changed quantity) is kept as
// it is, so nothing they type is lost.
// Without JavaScript the page reloads itself instead (<noscript> meta refresh).
(function () {
  "use strict";
  var box = document.querySelector("[data-queue-rows-url]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-queue-rows-url");
  var every = (parseInt(box.getAttribute("data-queue-poll-seconds"), 10) || 5) * 1000;
  var status = document.querySelector("[data-testid=queue-updated]");

  function busy(row) {
    return Array.prototype.some.call(row.querySelectorAll("input:not([type=hidden])"), function (input) {
      return input.value !== input.defaultValue || document.activeElement === input;
    });
  }

  function swap(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.querySelector("[data-queue-rows]");
    if (!fresh) {
      return;
    }
    box.querySelectorAll("[data-order]").forEach(function (row) {
      if (!busy(row)) {
        return;
      }
      var twin = fresh.querySelector('[data-order="' + row.getAttribute("data-order") + '"]');
      if (twin) {
        twin.replaceWith(row);
      }
    });
    box.replaceChildren(fresh);
    if (status) {
      status.removeAttribute("data-offline");
      status.setAttribute("data-refreshed-at", new Date().toISOString());
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" }, cache: "no-store" })
      .then(function (response) {
        if (response.redirected || response.status === 403) {
          // Logged out or no longer allowed: a full reload shows the login page.
          window.location.reload();
          return null;
        }
        if (!response.ok) {
          throw new Error("queue refresh failed: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (html !== null) {
          swap(html);
        }
      })
      .catch(function () {
        if (status) {
          status.setAttribute("data-offline", "true");
        }
      })
      .then(function () {
        window.setTimeout(poll, every);
      });
  }

  window.setTimeout(poll, every);
})();
