/* Base-map switcher and 3D view of the web map (a map control, top right).
 * Base maps: the city base (the layers whose layer file sets map.base, from /ogc/collections),
 * each raster backdrop (a raster with map.base in /api/rasters: the orthophoto, for those who
 * may see it), none, and the outside base map the city configured (SPP_BASEMAP_URL, named in
 * /ogc/styles/base's metadata; unset: no option and no request). Choosing one switches the
 * layers through the layer tree's own checkboxes, so the tree, the URL hash and the map agree.
 * 3D: the style layers marked metadata["spp:3d"] (fill-extrusion, made from style.extrude)
 * follow their layer's visibility; the map tilts, and a slider sets the pitch. Names no layer.
 * Started by app.js's "spp:ready" event (detail: the map state). */
(function () {
  "use strict";

  const T = {
    vi: { basemap: "Bản đồ nền", city: "Bản đồ nền thành phố", none: "Không có nền",
      outside: "Bản đồ nền ngoài", view3d: "Xem 3D (chiều cao nhà, giới hạn chiều cao quy hoạch)",
      pitch: "Góc nghiêng" },
    en: { basemap: "Base map", city: "City base map", none: "No base map",
      outside: "Outside base map", view3d: "3D view (building heights, plan height limits)",
      pitch: "Tilt" },
  };
  const OUTSIDE = "spp-outside"; // prefix of the outside base map's sources and layers
  const PITCH_3D = 55;

  document.addEventListener("spp:ready", (e) => init(e.detail));

  async function init(state) {
    const map = state.map;
    const t = (k) => (T[state.lang] || T.vi)[k];
    const hint = (c) => c["spp:map"] || c.map || {};
    const title = (c) => (c.titles && c.titles[state.lang]) || (c.title && (c.title[state.lang] || c.title)) || c.id;
    const cityIds = state.collections.filter((c) => hint(c).base != null)
      .sort((a, b) => hint(a).base - hint(b).base).map((c) => c.id);
    const backdrops = state.rasters.filter((r) => hint(r).base != null).sort((a, b) => hint(a).base - hint(b).base);
    let outsideUrl = null;
    try {
      const base = await (await fetch("/ogc/styles/base?f=mapbox", { headers: { Accept: "application/json" } })).json();
      outsideUrl = (base.metadata && base.metadata["spp:outsideBasemap"]) || null;
    } catch (e) { /* no base style: no outside option */ }

    const options = [];
    if (cityIds.length) options.push({ id: "city", label: () => t("city"), layers: cityIds });
    for (const r of backdrops) options.push({ id: `raster:${r.id}`, label: () => title(r), layers: [r.id] });
    options.push({ id: "none", label: () => t("none"), layers: [] });
    if (outsideUrl) options.push({ id: "outside", label: () => t("outside"), layers: [], outside: true });
    const switchable = new Set([...cityIds, ...backdrops.map((r) => r.id)]);

    // the option the map opened with (the hash's layers): every layer of one option on
    const current = () => options.find((o) => o.layers.length && o.layers.every((id) => state.visible.has(id))
      && [...switchable].every((id) => o.layers.includes(id) || !state.visible.has(id)));
    let chosen = (current() || options.find((o) => o.id === "none")).id;

    function toggle(id, on) { // through the tree: app.js applies it and writes the hash
      const box = document.querySelector(`#layer-tree input[data-toggle="${CSS.escape(id)}"]`);
      if (!box || box.checked === on) return;
      box.checked = on;
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }

    async function choose(id) {
      const opt = options.find((o) => o.id === id);
      if (!opt) return;
      chosen = id;
      for (const lid of switchable) toggle(lid, opt.layers.includes(lid));
      removeOutside();
      if (opt.outside) await addOutside(outsideUrl).catch((e) => console.warn("outside base map", e));
      render();
      sync3d();
    }

    function removeOutside() {
      for (const l of map.getStyle().layers) if (l.id.startsWith(OUTSIDE)) map.removeLayer(l.id);
      for (const s of Object.keys(map.getStyle().sources)) if (s.startsWith(OUTSIDE)) map.removeSource(s);
    }

    // the outside map goes under everything of ours (above the background)
    function firstOwnLayer() {
      const l = map.getStyle().layers.find((x) => x.type !== "background" && !x.id.startsWith(OUTSIDE));
      return l && l.id;
    }

    async function addOutside(url) {
      const before = firstOwnLayer();
      if (/\{z\}/.test(url)) { // a raster tile template
        map.addSource(OUTSIDE, { type: "raster", tiles: [url], tileSize: 256 });
        map.addLayer({ id: OUTSIDE, type: "raster", source: OUTSIDE }, before);
        return;
      }
      const style = await (await fetch(url)).json(); // a MapLibre style: its sources and drawing
      for (const [sid, src] of Object.entries(style.sources || {})) map.addSource(`${OUTSIDE}-${sid}`, src);
      for (const l of style.layers || []) {
        if (l.type === "symbol") continue; // its labels need its own glyphs and sprite
        const copy = { ...l, id: `${OUTSIDE}-${l.id}` };
        if (l.source) copy.source = `${OUTSIDE}-${l.source}`;
        map.addLayer(copy, before);
      }
    }

    // -- 3D ----------------------------------------------------------------------------------
    let on3d = false;
    const layers3d = () => map.getStyle().layers.filter((l) => l.metadata && l.metadata["spp:3d"]);
    function sync3d() {
      for (const l of layers3d()) {
        map.setLayoutProperty(l.id, "visibility", on3d && state.visible.has(l["source-layer"]) ? "visible" : "none");
      }
    }
    function set3d(on) {
      on3d = on;
      sync3d();
      if (on) { map.setMaxPitch(85); map.easeTo({ pitch: Math.max(map.getPitch(), PITCH_3D), duration: 500 }); }
      else map.easeTo({ pitch: 0, bearing: 0, duration: 500 });
      render();
    }

    // -- the control ---------------------------------------------------------------------------
    const el = document.createElement("div");
    el.className = "maplibregl-ctrl maplibregl-ctrl-group spp-basemap";
    el.addEventListener("click", (e) => {
      const b = e.target.closest("button");
      if (!b) return;
      if (b.dataset.action === "menu") b.setAttribute("aria-expanded", el.classList.toggle("open"));
      if (b.dataset.action === "3d") set3d(!on3d);
    });
    el.addEventListener("change", (e) => {
      if (e.target.name === "spp-basemap") { choose(e.target.value); el.classList.remove("open"); }
    });
    el.addEventListener("input", (e) => {
      if (e.target.dataset.action === "pitch") map.setPitch(Number(e.target.value));
    });
    function render() {
      el.innerHTML = `<button type="button" data-action="menu" data-testid="basemap-button" aria-haspopup="true" aria-expanded="${el.classList.contains("open")}"
          title="${esc(t("basemap"))}" aria-label="${esc(t("basemap"))}">▦</button>
        <button type="button" data-action="3d" data-testid="view3d-button" class="${on3d ? "active" : ""}"
          aria-pressed="${on3d}" title="${esc(t("view3d"))}" aria-label="${esc(t("view3d"))}">3D</button>
        <div class="spp-basemap-menu" role="radiogroup" aria-label="${esc(t("basemap"))}">
          <div class="spp-basemap-title">${esc(t("basemap"))}</div>
          ${options.map((o) => `<label><input type="radio" name="spp-basemap" value="${esc(o.id)}" data-testid="basemap-${esc(o.id)}"
            ${o.id === chosen ? "checked" : ""}> ${esc(o.label())}</label>`).join("")}
          ${on3d ? `<label class="spp-pitch">${esc(t("pitch"))}
            <input type="range" min="0" max="85" step="1" value="${Math.round(map.getPitch())}" data-action="pitch" data-testid="pitch"></label>` : ""}
        </div>`;
    }
    map.on("click", () => el.classList.remove("open")); // a tap on the map closes the menu
    map.on("pitchend", () => { const r = el.querySelector("[data-action=pitch]"); if (r) r.value = Math.round(map.getPitch()); });
    document.querySelector("#layer-tree").addEventListener("input", () => sync3d());
    document.querySelector("#btn-lang").addEventListener("click", () => setTimeout(render, 0));
    render();
    map.addControl({ onAdd: () => el, onRemove: () => el.remove() }, "top-right");
    window.sppBasemap = { options: () => options.map((o) => o.id), chosen: () => chosen, choose, set3d, is3d: () => on3d };
  }

  function esc(s) {
    return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
})();
