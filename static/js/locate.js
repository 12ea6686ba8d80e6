// "Use my location" for the nearest-stores form. Progressive enhancement: without JavaScript
// (or without geolocation) the button stays hidden and the postcode field works on its own.
(function () {
  "use strict";

  function setUp(form) {
    var wrapper = form.querySelector("[data-locate]");
    var button = form.querySelector("[data-locate-button]");
    var status = form.querySelector("[data-locate-status]");
    var lat = form.querySelector("[data-locate-lat]");
    var lon = form.querySelector("[data-locate-lon]");
    var postcode = form.querySelector("input[name='postcode']");
    if (!wrapper || !button || !lat || !lon) {
      return;
    }
    if (!("geolocation" in navigator)) {
      return;
    }
    wrapper.hidden = false;

    function say(key) {
      if (status) {
        status.textContent = status.getAttribute("data-msg-" + key) || "";
      }
    }

    button.addEventListener("click", function () {
      button.disabled = true;
      say("working");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lon.value = position.coords.longitude.toFixed(6);
          // A typed postcode would win on the server; the shopper asked for their location.
          if (postcode) {
            postcode.value = "";
          }
          form.submit();
        },
        function () {
          button.disabled = false;
          say("denied");
          if (postcode) {
            postcode.focus();
          }
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
      );
    });
  }

  function init() {
    var forms = document.querySelectorAll("form[data-locate-form]");
    for (var i = 0; i < forms.length; i++) {
      setUp(forms[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
