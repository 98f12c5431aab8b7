/* The feature panel of the map (every layer but the parcels): titled by the layer's title
 * field (spp:map.title, from the layer file), every visible property with its label, coded
 * values with their meaning ("ODT — Đất ở tại đô thị"), a link to the layer's list page.
 * Properties come from the OGC API item (the caller's access rules; tiles carry only a few).
 * #feature=layer/fid opens the map at that feature, selected (the list pages link so). */
(() => {
  "use strict";
  const S = window.spp;
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const X = { vi: { list: "Danh mục", item: "Chi tiết", none: "Không tìm thấy đối tượng" },
              en: { list: "Catalogue", item: "Details", none: "Feature not found" } };

  async function json(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(`${r.status} ${url}`);
    return r.json();
  }
  const labels = {}; // layer -> {field: {vi, en}} from queryables
  async function fieldLabels(id) {
    if (!labels[id]) {
      const q = await json(`/ogc/collections/${encodeURIComponent(id)}/queryables`);
      labels[id] = Object.fromEntries(Object.entries(q.properties).map(([k, p]) => [k, { vi: p["x-title-vi"] || p.title, en: p.title }]));
    }
    return labels[id];
  }

  function value(h, k, v, L) {
    const list = h.codes && h.codes[k] && h.codelists[h.codes[k]];
    const m = list && v != null && list[String(v)];
    const n = typeof v === "number" ? v.toLocaleString(L === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 2 }) : (v ?? "—");
    return m ? `<b>${esc(v)}</b> — <span data-testid="code-meaning">${esc(m[L] || m.vi)}</span>` : esc(n);
  }

  async function show(layer, fid, { fly = false } = {}) {
    const L = S.lang;
    const c = S.collections.find((x) => x.id === layer);
    if (!c) return false;
    const h = c["spp:map"] || {};
    const [f, lab] = await Promise.all([json(`/ogc/collections/${encodeURIComponent(layer)}/items/${encodeURIComponent(fid)}`), fieldLabels(layer)]);
    const p = f.properties || {};
    S.planning = null;
    const ltitle = (c.titles && c.titles[L]) || c.title;
    const head = h.title && p[h.title] != null ? value(h, h.title, p[h.title], L) : esc(ltitle);
    const rows = Object.entries(p).filter(([k, v]) => k !== h.title && v != null && v !== "").map(([k, v]) =>
      `<tr><th>${esc((lab[k] && (lab[k][L] || lab[k].vi)) || k)}</th><td data-field="${esc(k)}">${value(h, k, v, L)}</td></tr>`).join("");
    const list = h.catalogue ? `<a href="${esc(h.catalogue)}?lang=${L}">${esc(X[L].list)}</a>` : "";
    S.showPanel(`<h2 data-testid="feature-title">${head}</h2><div class="muted">${esc(ltitle)}</div><table>${rows}</table>
      <div class="actions"><a href="/ogc/collections/${esc(layer)}/items/${esc(fid)}?f=html" target="_blank" rel="noopener">${esc(X[L].item)}</a>${list}</div>`);
    if (f.geometry) {
      S.map.getSource("spp-sel").setData(f);
      if (fly) {
        const pts = JSON.stringify(f.geometry.coordinates).match(/-?\d+(\.\d+)?,-?\d+(\.\d+)?/g).map((s) => s.split(",").map(Number));
        const xs = pts.map((q) => q[0]), ys = pts.map((q) => q[1]);
        S.map.fitBounds([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], { padding: 60, maxZoom: 18, duration: 0 });
      }
    }
    return true;
  }

  // app.js hands every non-parcel click here (S.featurePanel); a failure falls back to its table
  S.featurePanel = (f) => show(f.sourceLayer, f.id).catch((e) => { console.warn(e); S.status(`${X[S.lang].none}: ${e.message}`); });
  const initial = location.hash; // app.js rewrites the hash once the map moves
  function fromHash(e) {
    const m = new URLSearchParams((e ? location.hash : initial).slice(1)).get("feature");
    const g = m && m.match(/^([a-z0-9_]+)\/(\d+)$/);
    if (g) show(g[1], g[2], { fly: true }).catch(() => S.status && S.status(X[S.lang].none));
  }
  const wait = setInterval(() => { if (S.ready) { clearInterval(wait); fromHash(null); } }, 100);
  window.addEventListener("hashchange", fromHash);
})();
