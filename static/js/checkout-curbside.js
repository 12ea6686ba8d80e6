// The checkout's curbside choice (templates/orders/checkout.html) follows the store chosen: at a
// store without curbside pickup it is hidden and disabled, with its car field, and a note says
// why. Without JavaScript every choice stays and the form refuses curbside at such a store,
// naming it at the top of the page (checkout.forms.CheckoutForm).
(function () {
  "use strict";
  var form = document.querySelector("form.checkout");
  var curbside = form && form.querySelector("#fulfilment-curbside");
  if (!curbside) {
    return;
  }
  var inStore = form.querySelector("#fulfilment-in-store");
  var option = form.querySelector("[data-testid=curbside-option]");
  var car = form.querySelector("[data-testid=curbside-car]");
  var notHere = form.querySelector("[data-testid=curbside-not-here]");

  function followStore() {
    var store = form.querySelector("input[name=store]:checked");
    var offered = !store || store.getAttribute("data-curbside") === "true";
    curbside.disabled = !offered;
    option.hidden = !offered;
    car.hidden = !offered;
    notHere.hidden = offered;
    if (!offered && curbside.checked) {
      inStore.checked = true;
    }
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "store") {
      followStore();
    }
  });
  followStore();
})();
