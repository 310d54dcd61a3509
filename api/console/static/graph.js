// The provenance graph: selecting a node shows only its attestation details.
// Without this script every node's details are listed and the nodes link to them.
"use strict";
(function () {
  const nodes = Array.from(document.querySelectorAll("#graph .node"));
  const details = Array.from(document.querySelectorAll(".node-detail"));
  if (!nodes.length) return;

  function select(id, focus) {
    for (const d of details) d.hidden = d.id !== id;
    for (const n of nodes) {
      const on = n.dataset.node === id;
      n.classList.toggle("selected", on);
      n.setAttribute("aria-current", on ? "true" : "false");
    }
    const shown = document.getElementById(id);
    if (shown && focus) shown.focus();
  }

  for (const n of nodes) {
    n.addEventListener("click", (event) => {
      event.preventDefault();
      select(n.dataset.node, true);
      history.replaceState(null, "", "#" + n.dataset.node);
    });
  }
  const fromHash = location.hash.slice(1);
  select(details.some((d) => d.id === fromHash) ? fromHash : nodes[nodes.length - 1].dataset.node, false);
})();
