/* A layer's list page (services/lists): the form becomes a CQL2 text filter on the
 * collection's OGC API items (sortby, cursor paging); the CSV link carries the same query. */
(() => {
  "use strict";
  const S = JSON.parse(document.getElementById("setup").textContent);
  const T = window.LIST_TEXT;
  const L = document.documentElement.lang;
  const form = document.getElementById("filters");
  const body = document.querySelector("#rows tbody");
  const PAGE = 50;
  let sort = S.sort, pages = [], seq = 0;
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
  const fmt = (v) => typeof v === "number" ? v.toLocaleString(L === "en" ? "en-GB" : "vi-VN", { maximumFractionDigits: 2 }) : (v ?? "");

  function cql() {
    const parts = [];
    for (const el of form.elements) {
      const v = el.value.trim();
      if (!v || !el.name) continue;
      if (el.name === "q") {
        const q = v.replace(/[%_\\]/g, " ").slice(0, 100);
        if (S.search.length) parts.push("(" + S.search.map((f) => `CASEI(${f}) LIKE CASEI(${lit("%" + q + "%")})`).join(" OR ") + ")");
      } else if (el.tagName === "SELECT") {
        parts.push(`${el.name} = ${lit(v)}`);
      } else {
        const n = Number(v), m = el.name.match(/^(.*)_(min|max)$/);
        if (m && Number.isFinite(n)) parts.push(`${m[1]} ${m[2] === "min" ? ">=" : "<="} ${n}`);
      }
    }
    return parts.join(" AND ");
  }

  function query(extra) {
    const p = new URLSearchParams({ sortby: sort, properties: S.columns.map((c) => c.name).join(","), ...extra });
    const f = cql();
    if (f) { p.set("filter", f); p.set("filter-lang", "cql2-text"); }
    return p;
  }

  function row(ft) {
    const fid = ft.id, p = ft.properties;
    const cells = S.columns.map((c) => `<td${c.number ? ' class="num"' : ""}>${esc(fmt(p[c.name]))}</td>`).join("");
    const map = `${S.map}#feature=${encodeURIComponent(S.layer)}/${fid}&layers=${[S.parcels, S.layer].filter(Boolean).map(encodeURIComponent).join(",")}${L === "en" ? "&lang=en" : ""}`;
    const plan = S.parcels ? ` · <a data-testid="planning-link" href="${esc(S.planning)}/${fid}/planning?lang=${L}">${esc(T.planning)}</a>` : "";
    return `<tr data-fid="${fid}">${cells}<td><a data-testid="map-link" href="${esc(map)}">${esc(T.map)}</a>${plan}</td></tr>`;
  }

  async function load(url) {
    const mine = ++seq;
    const r = await fetch(url, { headers: { Accept: "application/geo+json" } });
    if (mine !== seq) return;
    if (!r.ok) { body.innerHTML = `<tr><td colspan="99">${esc(T.error)} ${r.status}</td></tr>`; return; }
    const doc = await r.json();
    body.innerHTML = doc.features.length ? doc.features.map(row).join("") : `<tr><td colspan="99">${esc(T.none)}</td></tr>`;
    const next = (doc.links || []).find((l) => l.rel === "next");
    document.getElementById("next").disabled = !next;
    document.getElementById("next").dataset.href = next ? next.href : "";
    document.getElementById("prev").disabled = pages.length < 2;
    const first = (pages.length - 1) * PAGE;
    document.getElementById("count").textContent = doc.features.length
      ? `${first + 1}–${first + doc.features.length}${doc.numberMatched != null ? " / " + doc.numberMatched : ""} ${T.shown}` : "";
  }

  function refresh() {
    const url = `${S.items}?${query({ f: "json", limit: PAGE })}`;
    pages = [url];
    document.getElementById("csv").href = `${S.csv}?${query({ limit: 10000 })}`;
    document.querySelectorAll("th button").forEach((b) => {
      b.removeAttribute("aria-sort");
      if (sort.slice(1) === b.dataset.sort) b.setAttribute("aria-sort", sort[0] === "-" ? "descending" : "ascending");
    });
    return load(url);
  }

  let timer;
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 250); });
  form.addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  document.getElementById("reset").onclick = () => { form.reset(); refresh(); };
  document.querySelector("#rows thead").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-sort]");
    if (!b) return;
    sort = (sort === "+" + b.dataset.sort ? "-" : "+") + b.dataset.sort;
    refresh();
  });
  document.getElementById("next").onclick = (e) => { pages.push(e.target.dataset.href); load(pages[pages.length - 1]); };
  document.getElementById("prev").onclick = () => { pages.pop(); load(pages[pages.length - 1]); };
  window.sppList = { refresh, cql };
  refresh();
})();
