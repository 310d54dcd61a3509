// The API explorer's "try it": a GET from this page, with the token only if one is typed.
"use strict";
(function () {
  for (const form of document.querySelectorAll("form.try")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      let path = form.dataset.path;
      const query = new URLSearchParams();
      for (const input of form.querySelectorAll("input[name]")) {
        if (input.value === "") continue;
        if (input.dataset.in === "path") path = path.replace("{" + input.name + "}", encodeURIComponent(input.value));
        else if (input.dataset.in === "query") query.append(input.name, input.value);
      }
      const headers = {};
      const token = document.getElementById("api-token").value.trim();
      if (token) headers.Authorization = "Bearer " + token;
      const out = form.querySelector(".response");
      out.hidden = false;
      out.textContent = "\u2026";
      try {
        const url = path + (query.toString() ? "?" + query : "");
        const response = await fetch(url, { headers: headers, credentials: "omit", cache: "no-store" });
        const type = response.headers.get("Content-Type") || "";
        let text = await response.text();
        if (type.includes("json")) text = JSON.stringify(JSON.parse(text), null, 2);
        out.textContent = `GET ${url}\n${response.status} ${response.statusText}\n\n${text.slice(0, 20000)}`;
      } catch (e) {
        out.textContent = "request failed: " + e.message;
      }
    });
  }
})();
