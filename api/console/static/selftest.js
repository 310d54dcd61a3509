// Marks the self-test page ready once the log checks are loaded.
"use strict";
(function () {
  const ready = document.getElementById("selftest-ready");
  const crypto = window.crypto && window.crypto.subtle;
  ready.textContent = window.LotchainLog && crypto ? "ready" : "this browser lacks Web Crypto";
  ready.dataset.ready = window.LotchainLog && crypto ? "yes" : "no";
})();
