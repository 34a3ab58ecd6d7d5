// Hera's one script, loaded only on pages of Kratos's flows that offer security keys or
// passkeys. Everything else on Hera's pages works without JavaScript.
//
// Kratos's own script (its `script` node, loaded with its integrity hash) defines the functions
// that run a WebAuthn ceremony and submit the enclosing form. Hera renders the buttons that need
// them hidden, with the function's name in `data-hera-trigger` (or `data-hera-onload` for one to
// run once the page is ready), and never as inline handlers: the page's CSP allows no inline
// script. Once Kratos's script has initialised, this wires each button and shows its section.
(function () {
  "use strict";

  function wire() {
    document.querySelectorAll("[data-hera-trigger]").forEach(function (button) {
      var name = button.getAttribute("data-hera-trigger");
      if (typeof window[name] !== "function") {
        return;
      }
      button.addEventListener("click", function (event) {
        event.preventDefault();
        window[name]();
      });
      button.hidden = false;
      var section = button.closest("[data-hera-needs-script]");
      if (section) {
        section.hidden = false;
      }
    });
    document.querySelectorAll("[data-hera-onload]").forEach(function (element) {
      var name = element.getAttribute("data-hera-onload");
      if (typeof window[name] === "function") {
        window[name]();
      }
    });
  }

  function start() {
    if (window.__oryWebAuthnInitialized === true) {
      wire();
    } else {
      window.addEventListener("oryWebAuthnInitialized", wire, { once: true });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  } else {
    start();
  }
})();
