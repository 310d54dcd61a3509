// The log page: fetch the public checkpoint, proof and leaf, and check them here.
"use strict";
(function () {
  const L = window.LotchainLog;
  const $ = (id) => document.getElementById(id);

  function show(el, ok, words) {
    el.textContent = (ok ? "\u2713 " : "\u2717 ") + words;
    el.className = "result " + (ok ? "result-ok" : "result-bad");
  }

  async function latestCheckpoint() {
    const response = await fetch("/v1/checkpoint", { cache: "no-store" });
    if (!response.ok) throw new Error("the log did not answer (" + response.status + ")");
    return response.text();
  }

  async function checkCheckpoint() {
    const out = $("checkpoint-result");
    try {
      const note = await latestCheckpoint();
      $("checkpoint").textContent = note;
      const cp = await L.verifyCheckpoint(note, $("vkey").value);
      show(out, true, `signed by ${cp.origin}: ${cp.size} entries, verified in this browser (Ed25519)`);
      return cp;
    } catch (e) {
      show(out, false, "checkpoint not verified: " + e.message);
      return null;
    }
  }

  async function checkInclusion(button) {
    const out = $("inclusion-result");
    const index = button.dataset.index;
    const cp = await checkCheckpoint();
    if (cp === null) { show(out, false, "no verified checkpoint to check against"); return; }
    try {
      const proofResponse = await fetch(`/v1/proofs/inclusion?id=${encodeURIComponent(index)}&tree_size=${cp.size}`);
      const leafResponse = await fetch(`/v1/log/leaves?start=${encodeURIComponent(index)}&end=${BigInt(index) + 1n}`);
      if (!proofResponse.ok || !leafResponse.ok) throw new Error("the log did not give the proof or the leaf");
      const proof = await proofResponse.json();
      const leaves = (await leafResponse.json()).leaves;
      if (leaves.length !== 1 || String(leaves[0].index) !== String(index)) throw new Error("the log did not give this leaf");
      const hash = await L.leafHash(L.b64decode(leaves[0].leaf));
      await L.verifyInclusion(hash, proof.index, cp.size, proof.hashes.map(L.b64decode), cp.root);
      show(out, true, `entry ${index} is in the log of ${cp.size} entries signed in the checkpoint (RFC 9162, ${proof.hashes.length} hashes)`);
    } catch (e) {
      show(out, false, "inclusion not verified: " + e.message);
    }
  }

  $("verify-checkpoint").addEventListener("click", checkCheckpoint);
  const button = $("verify-inclusion");
  if (button) button.addEventListener("click", () => checkInclusion(button));
})();
