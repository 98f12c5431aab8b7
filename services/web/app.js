/* SPP Cần Thơ web map: MapLibre GL JS on our own vector tiles (no external tiles, fonts or CDN).
 * Data: /ogc/collections (what this user may see), /ogc/styles/... (styles, legends; when the
 * styles service is missing, simple layers are built from the TileJSON's vector_layers),
 * /api/rasters (raster layers: map tiles, legend), /api/parcels/{fid}/planning (with the
 * flood depth from the flood rasters), /api/search, /api/export. State lives in the URL hash:
 * #map=zoom/lat/lon&parcel=fid&layers=a,b&lang=en (shareable). */
(function () {
  "use strict";

  // -- texts --------------------------------------------------------------------------------
  const T = {
    vi: {
      title: "Bản đồ quy hoạch", search: "Tìm", layers: "Lớp dữ liệu",
      searchPlaceholder: "Thửa đất (Ninh Kiều tờ 12 thửa 153), địa chỉ, tọa độ…",
      measureLine: "Đo dài", measureArea: "Đo diện tích", measureClear: "Xóa",
      measureHint: "Nhấp để thêm điểm, nhấp đúp để kết thúc", legend: "Chú giải",
      opacity: "Độ trong suốt", fromZoom: "hiện từ mức thu phóng", noResults: "Không tìm thấy kết quả",
      parcel: "Thửa đất", planning: "Thông tin quy hoạch", print: "Trang in", zoomTo: "Phóng tới",
      exportGeojson: "Xuất GeoJSON", exportCsv: "Xuất CSV", selected: "thửa đang chọn",
      intersection: "Diện tích giao", share: "Tỷ lệ", distance: "Khoảng cách", none: "Không có",
      landUse: "Loại đất", areaPlane: "Diện tích (mặt phẳng VN-2000)", loading: "Đang tải…",
      error: "Lỗi", distanceTotal: "Chiều dài", areaTotal: "Diện tích", perimeter: "Chu vi",
      kinds: { parcel: "thửa", address: "địa chỉ", ward: "phường/xã", place: "địa danh", coordinate: "tọa độ" },
      domains: { boundary: "Ranh giới hành chính", land: "Đất đai", planning: "Quy hoạch",
        transport: "Giao thông", utility: "Hạ tầng kỹ thuật", environment: "Môi trường",
        address: "Địa chỉ", social: "Xã hội", other: "Khác" },
      methods: "Diện tích tính trên mặt phẳng VN-2000; khoảng cách trắc địa.",
      feature: "Đối tượng", shiftHint: "Giữ Shift khi nhấp để chọn nhiều thửa",
      floodDepth: "Độ sâu ngập (mô hình thủy lực)", raster: "Lưới raster", units: "Đơn vị",
      floodCoverage: "ô có dữ liệu",
    },
    en: {
      title: "Planning map", search: "Search", layers: "Layers",
      searchPlaceholder: "Parcel (Ninh Kiều tờ 12 thửa 153), address, coordinates…",
      measureLine: "Measure distance", measureArea: "Measure area", measureClear: "Clear",
      measureHint: "Click to add points, double-click to finish", legend: "Legend",
      opacity: "Opacity", fromZoom: "shown from zoom", noResults: "No results",
      parcel: "Parcel", planning: "Planning information", print: "Printable page", zoomTo: "Zoom to",
      exportGeojson: "Export GeoJSON", exportCsv: "Export CSV", selected: "selected parcels",
      intersection: "Intersection", share: "Share", distance: "Distance", none: "None",
      landUse: "Land use", areaPlane: "Area (VN-2000 plane)", loading: "Loading…",
      error: "Error", distanceTotal: "Length", areaTotal: "Area", perimeter: "Perimeter",
      kinds: { parcel: "parcel", address: "address", ward: "ward", place: "place", coordinate: "point" },
      domains: { boundary: "Administrative boundaries", land: "Land", planning: "Planning",
        transport: "Transport", utility: "Utilities", environment: "Environment",
        address: "Addresses", social: "Social", other: "Other" },
      methods: "Areas in the VN-2000 plane; geodesic distances.",
      feature: "Feature", shiftHint: "Shift-click to select several parcels",
      floodDepth: "Flood depth (hydraulic model)", raster: "Raster grid", units: "Units",
      floodCoverage: "cells with data",
    },
  };
  // What the map knows of a layer comes from the API: the collection document's "spp:map"
  // (the raster list's "map"): domain, drawn at start, label field, planning role. It names no layer.
  const DOMAIN_ORDER = ["boundary", "land", "planning", "transport", "utility", "environment", "address", "social", "other"];
  const hints = (c) => c["spp:map"] || c.map || {};
  const domainOf = (c) => (DOMAIN_ORDER.includes(hints(c).domain) ? hints(c).domain : "other");
  const withRole = (role) => (state.collections.find((c) => hints(c).planning === role) || {}).id;
  let PARCELS = null; // the layer with planning role "parcels" (set when the collections are read)
  let WARDS = null; // the layer with planning role "wards": clicks on it select nothing
  const HOME = { center: [105.7775, 10.0332], zoom: 16 };

  const state = {
    lang: "vi", collections: [], rasters: [], visible: new Set(), opacity: {}, styleLayers: {}, legends: {},
    selected: new Set(), current: null, planning: null, measure: null, styleSource: "none",
  };
  window.spp = state;
  const $ = (s) => document.querySelector(s);
  const t = (k) => T[state.lang][k] ?? T.vi[k] ?? k;
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const fmt = (v, d = 2) => v == null ? "—" : (typeof v === "number"
    ? v.toLocaleString(state.lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: Number.isInteger(v) ? 0 : d })
    : String(v));

  function status(msg) {
    const el = $("#status");
    el.textContent = msg;
    el.classList.add("show");
    clearTimeout(status.timer);
    status.timer = setTimeout(() => el.classList.remove("show"), 2500);
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(`${r.status} ${url}`);
    return r.json();
  }

  // -- URL hash -------------------------------------------------------------------------------
  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    const out = {};
    const m = (p.get("map") || "").split("/").map(Number);
    if (m.length === 3 && m.every(Number.isFinite)) out.view = { zoom: m[0], center: [m[2], m[1]] };
    if (p.get("parcel") && /^\d+$/.test(p.get("parcel"))) out.parcel = Number(p.get("parcel"));
    if (p.has("layers")) out.layers = p.get("layers").split(",").filter(Boolean);
    if (p.get("lang") === "en") out.lang = "en";
    return out;
  }

  function writeHash() {
    if (!state.map) return;
    const c = state.map.getCenter();
    const z = state.map.getZoom();
    const p = new URLSearchParams();
    p.set("map", `${z.toFixed(2)}/${c.lat.toFixed(6)}/${c.lng.toFixed(6)}`);
    if (state.current != null) p.set("parcel", state.current);
    p.set("layers", [...state.visible].join(","));
    if (state.lang !== "vi") p.set("lang", state.lang);
    const h = "#" + p.toString().replace(/%2F/g, "/").replace(/%2C/g, ",");
    if (h !== location.hash) history.replaceState(null, "", h);
  }

  // -- i18n -----------------------------------------------------------------------------------
  function applyLang() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.querySelectorAll("[data-i18n-title]").forEach((el) => { el.title = t(el.dataset.i18nTitle); });
    $("#btn-lang").textContent = state.lang === "vi" ? "EN" : "VI";
    document.title = `SPP Cần Thơ — ${t("title")}`;
    renderTree();
    if (state.planning) renderPlanning(state.planning);
    updateMeasure();
    document.dispatchEvent(new CustomEvent("spp:lang", { detail: state.lang })); // report.js
  }

  // -- style ------------------------------------------------------------------------------------
  async function buildStyle() {
    const tilejsonUrl = `${location.origin}/ogc/tiles/WebMercatorQuad?f=tilejson`;
    try {
      const style = await getJSON("/ogc/styles/basemap?f=mapbox");
      // labels: the style's glyphs are this server's /fonts (or SPP_GLYPHS_URL)
      state.styleSource = "styles";
      return style;
    } catch (e) {
      console.warn("no /ogc/styles/basemap; building simple layers from the TileJSON", e);
    }
    const tj = await getJSON(tilejsonUrl);
    state.styleSource = "tilejson";
    const geomOf = Object.fromEntries(state.collections.map((c) => [c.id, (c.geometryType || "").toLowerCase()]));
    const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];
    const layers = [{ id: "background", type: "background", paint: { "background-color": "#F8F8F5" } }];
    const order = { polygon: 0, line: 1, point: 2 };
    const kind = (g) => g.includes("polygon") ? "polygon" : g.includes("line") ? "line" : "point";
    const vls = [...(tj.vector_layers || [])].sort((a, b) => order[kind(geomOf[a.id] || "")] - order[kind(geomOf[b.id] || "")]);
    vls.forEach((vl, i) => {
      const color = palette[i % palette.length];
      const k = kind(geomOf[vl.id] || "");
      const base = { source: "spp", "source-layer": vl.id, minzoom: vl.minzoom || 0 };
      if (k === "polygon") {
        layers.push({ ...base, id: `${vl.id}-fill`, type: "fill", paint: { "fill-color": color, "fill-opacity": 0.25 } });
        layers.push({ ...base, id: `${vl.id}-outline`, type: "line", paint: { "line-color": color, "line-width": 1 } });
      } else if (k === "line") {
        layers.push({ ...base, id: `${vl.id}-line`, type: "line", paint: { "line-color": color, "line-width": 2 } });
      } else {
        layers.push({ ...base, id: `${vl.id}-circle`, type: "circle", paint: { "circle-color": color, "circle-radius": 4, "circle-stroke-color": "#fff", "circle-stroke-width": 1 } });
      }
    });
    return { version: 8, sources: { spp: { type: "vector", url: tilejsonUrl } }, layers };
  }

  function indexStyleLayers() {
    state.styleLayers = {};
    for (const l of state.map.getStyle().layers) {
      const id = l.type === "raster" && l.metadata && l.metadata["spp:raster"] || l["source-layer"];
      if (!id || (l.source !== "spp" && l.type !== "raster") || l.id.startsWith("spp-sel")) continue;
      if (l.metadata && l.metadata["spp:3d"]) continue; // the 3D view's (basemap.js)
      (state.styleLayers[id] = state.styleLayers[id] || []).push(l);
    }
  }

  // -- raster layers (/api/rasters): one raster source and layer each, below the vector layers --
  const RASTER_PREFIX = "spp-raster-";
  const absolute = (u) => (u.startsWith("/") ? location.origin + u : u); // keeps {z}/{y}/{x} as is

  function addRasterLayers() {
    const map = state.map;
    const firstVector = map.getStyle().layers.find((l) => l.type !== "background" && l.type !== "raster");
    for (const r of state.rasters) {
      const id = RASTER_PREFIX + r.id;
      if (map.getSource(id)) continue;
      const source = { type: "raster", tiles: r.tiles.map(absolute), tileSize: 256,
        minzoom: r.minzoom ?? 0, maxzoom: r.maxzoom ?? 22, attribution: (r.owner && r.owner[state.lang]) || "" };
      if (Array.isArray(r.bbox) && r.bbox.length === 4) source.bounds = r.bbox;
      map.addSource(id, source);
      map.addLayer({ id, type: "raster", source: id, minzoom: r.minzoom ?? 0, metadata: { "spp:raster": r.id },
        layout: { visibility: state.visible.has(r.id) ? "visible" : "none" },
        paint: { "raster-opacity": r.opacity ?? 1, "raster-fade-duration": 0,
          "raster-resampling": r.render === "ramp" ? "linear" : "nearest" } }, // classes stay crisp
      firstVector ? firstVector.id : undefined);
    }
  }

  function rasterLegendHtml(r) {
    const L = state.lang;
    const lg = r.legend || [];
    const units = r.units ? ` <span class="minzoom">(${esc(t("units"))}: ${esc(r.units)})</span>` : "";
    if (!lg.length) return "";
    let body;
    if (lg[0].value !== undefined) { // ramp stops: a gradient with the labelled stops under it
      const v0 = lg[0].value, v1 = lg[lg.length - 1].value, span = (v1 - v0) || 1;
      const stops = lg.map((s) => `${esc(s.color)} ${((s.value - v0) / span * 100).toFixed(1)}%`).join(", ");
      body = `<div class="ramp" style="background:linear-gradient(to right, ${stops})"></div>
        <div class="ramp-labels">${lg.filter((s) => s.label).map((s) => {
            const x = (s.value - v0) / span * 100; // end labels stay inside the bar
            return `<span style="left:${x.toFixed(1)}%;transform:translateX(${x < 1 ? 0 : x > 99 ? -100 : -50}%)">${esc(s.label[L] || s.label.vi)}</span>`;
          }).join("")}</div>`;
    } else { // classes
      body = `<ul class="legend">${lg.map((c) => `<li>${swatchFor({ color: c.color })}<span>${esc((c.label && (c.label[L] || c.label.vi)) || `${c.min ?? ""}–${c.max ?? ""}`)}</span></li>`).join("")}</ul>`;
    }
    return `<details data-legend="${esc(r.id)}"><summary>${esc(t("legend"))}${units}</summary>${body}</details>`;
  }

  const OPACITY_PROPS = { raster: ["raster-opacity"], fill: ["fill-opacity"], line: ["line-opacity"], circle: ["circle-opacity", "circle-stroke-opacity"], symbol: ["icon-opacity"], "fill-extrusion": ["fill-extrusion-opacity"] };

  function applyLayerState(id) {
    const on = state.visible.has(id);
    const op = state.opacity[id] ?? 1;
    for (const l of state.styleLayers[id] || []) {
      state.map.setLayoutProperty(l.id, "visibility", on ? "visible" : "none");
      for (const prop of OPACITY_PROPS[l.type] || []) {
        const orig = l.paint && l.paint[prop];
        const base = typeof orig === "number" ? orig : 1;
        state.map.setPaintProperty(l.id, prop, typeof orig === "object" && op === 1 ? orig : base * op);
      }
    }
  }

  // -- layer tree -----------------------------------------------------------------------------
  function swatchFor(entry) {
    const k = entry.kind || entry.geometry || "fill";
    const cls = k.includes("line") ? "line" : (k.includes("circle") || k.includes("point")) ? "circle" : "fill";
    return `<span class="sw ${cls}" style="background:${esc(entry.color || "#888")}"></span>`;
  }

  function legendEntries(id) {
    const lg = state.legends[id];
    if (lg && lg.layers && lg.layers[0]) return lg.layers[0].entries;
    // no legend service: one entry a style layer with a plain colour
    const out = [];
    for (const l of state.styleLayers[id] || []) {
      const p = l.paint || {};
      const color = p["fill-color"] || p["line-color"] || p["circle-color"];
      if (typeof color === "string") out.push({ label: { vi: l.id, en: l.id }, color, kind: l.type });
    }
    return out.slice(0, 1);
  }

  // the tree's groups: each layer under the domain its collection document (or raster entry) gives
  function treeGroups(collections, rasters, drawn = () => true) {
    const groups = {};
    const add = (c) => (groups[domainOf(c)] = groups[domainOf(c)] || []).push(c);
    collections.filter((c) => drawn(c.id)).forEach(add);
    rasters.filter((r) => drawn(r.id)).forEach((r) => add({ ...r, raster: r }));
    return groups;
  }
  const defaultVisible = (layers) => layers.filter((c) => hints(c).visible).map((c) => c.id);

  function renderTree() {
    const tree = $("#layer-tree");
    if (!tree) return;
    // a layer not in the tiles or without style layers has nothing to draw
    const groups = treeGroups(state.collections, state.rasters, (id) => state.styleLayers[id]);
    let html = "";
    for (const d of DOMAIN_ORDER) {
      if (!groups[d]) continue;
      html += `<div class="group" data-domain="${d}"><h3>${esc(t("domains")[d])}</h3>`;
      for (const c of groups[d]) {
        if (c.raster) {
          const r = c.raster;
          html += `<div class="layer raster" data-layer="${esc(r.id)}" data-kind="raster">
            <label class="name"><input type="checkbox" data-toggle="${esc(r.id)}" ${state.visible.has(r.id) ? "checked" : ""}>
              <span class="sw raster-sw"></span><span>${esc((r.title && (r.title[state.lang] || r.title.vi)) || r.id)}</span></label>
            <input class="opacity" type="range" min="0" max="1" step="0.05" value="${state.opacity[r.id] ?? 1}" data-opacity="${esc(r.id)}" aria-label="${esc(t("opacity"))}" title="${esc(t("opacity"))}">
            ${rasterLegendHtml(r)}
          </div>`;
          continue;
        }
        const title = (c.titles && c.titles[state.lang]) || c.title || c.id;
        const entries = legendEntries(c.id);
        const minz = (state.legends[c.id] && state.legends[c.id].layers && state.legends[c.id].layers[0]?.minzoom) || null;
        html += `<div class="layer" data-layer="${esc(c.id)}">
          <label class="name"><input type="checkbox" data-toggle="${esc(c.id)}" ${state.visible.has(c.id) ? "checked" : ""}>
            ${entries.length === 1 ? swatchFor(entries[0]) : ""}<span>${esc(title)}</span></label>
          <input class="opacity" type="range" min="0" max="1" step="0.05" value="${state.opacity[c.id] ?? 1}" data-opacity="${esc(c.id)}" aria-label="${esc(t("opacity"))}" title="${esc(t("opacity"))}">
          ${entries.length > 1 || minz ? `<details><summary>${esc(t("legend"))}${minz ? ` <span class="minzoom">(${esc(t("fromZoom"))} ${minz})</span>` : ""}</summary>
            <ul class="legend">${entries.map((e) => `<li>${swatchFor(e)}<span>${esc((e.label && e.label[state.lang]) || "")}</span></li>`).join("")}</ul></details>` : ""}
        </div>`;
      }
      html += "</div>";
    }
    tree.innerHTML = html;
  }

  function onTreeInput(ev) {
    const el = ev.target;
    if (el.dataset.toggle) {
      const id = el.dataset.toggle;
      el.checked ? state.visible.add(id) : state.visible.delete(id);
      applyLayerState(id);
      writeHash();
    } else if (el.dataset.opacity) {
      state.opacity[el.dataset.opacity] = Number(el.value);
      applyLayerState(el.dataset.opacity);
    }
  }

  async function loadLegends() {
    const rasterIds = new Set(state.rasters.map((r) => r.id));
    await Promise.all(Object.keys(state.styleLayers).filter((id) => !rasterIds.has(id)).map(async (id) => {
      try { state.legends[id] = await getJSON(`/ogc/styles/${encodeURIComponent(id)}/legend`); } catch (e) { /* none */ }
    }));
    renderTree();
  }

  // -- selection and the planning panel ---------------------------------------------------------
  function setSelectedState(fid, on) {
    try {
      state.map.setFeatureState({ source: "spp", sourceLayer: PARCELS, id: fid }, { selected: on });
    } catch (e) { /* tiles not loaded yet */ }
  }

  function clearSelection() {
    for (const fid of state.selected) setSelectedState(fid, false);
    state.selected.clear();
  }

  async function selectParcel(fid, { add = false, fly = false } = {}) {
    if (!add) clearSelection();
    if (add && state.selected.has(fid) && state.selected.size > 1) {
      state.selected.delete(fid);
      setSelectedState(fid, false);
      fid = [...state.selected].pop();
    } else {
      state.selected.add(fid);
      setSelectedState(fid, true);
    }
    state.current = fid;
    writeHash();
    showPanel(`<p>${esc(t("loading"))}</p>`);
    try {
      const doc = await getJSON(`/api/parcels/${fid}/planning`);
      if (state.current !== fid) return;
      state.planning = doc;
      state.map.getSource("spp-sel").setData({ type: "Feature", geometry: doc.geometry, properties: {} });
      renderPlanning(doc);
      if (fly) state.map.fitBounds(doc.bbox, { padding: 80, maxZoom: 18.5, duration: 600 });
    } catch (e) {
      showPanel(`<p>${esc(t("error"))}: ${esc(e.message)}</p>`);
    }
  }

  function showPanel(html) {
    $("#panel").hidden = false;
    $("#panel-body").innerHTML = html;
    state.map && state.map.resize();
  }

  function propRows(props) {
    return props.filter((p) => p.value != null && p.value !== "").map((p) =>
      `<tr><th>${esc(p.label[state.lang])}</th><td>${esc(fmt(p.value))}${p.meaning ? ` — ${esc(p.meaning[state.lang])}` : ""}</td></tr>`).join("");
  }

  function renderPlanning(doc) {
    const L = state.lang;
    const fids = [...state.selected].join(",");
    let html = `<h2 data-testid="parcel-title">${esc(doc.label[L])}</h2>
      <div class="muted">${esc(t("parcel"))} · fid ${doc.fid}${state.selected.size > 1 ? ` · ${state.selected.size} ${esc(t("selected"))}` : ""}</div>
      <div class="actions">
        <a href="/api/parcels/${doc.fid}/planning?f=html&lang=${L}" target="_blank" rel="noopener" data-testid="print-link">${esc(t("print"))}</a>
        <a href="/api/export?layer=${PARCELS}&fids=${fids}&f=geojson" data-testid="export-geojson">${esc(t("exportGeojson"))}</a>
        <a href="/api/export?layer=${PARCELS}&fids=${fids}&f=csv" data-testid="export-csv">${esc(t("exportCsv"))}</a>
        <button type="button" id="zoom-parcel">${esc(t("zoomTo"))}</button>
      </div>
      <table class="attrs">${propRows(doc.properties)}
        <tr><th>${esc(t("areaPlane"))}</th><td>${esc(fmt(doc.area.plane_m2))} m²</td></tr></table>
      <h2 style="font-size:15px;margin-top:14px">${esc(t("planning"))}</h2>`;
    for (const s of doc.sections) {
      html += `<h3 data-section="${esc(s.key)}">${esc(s.title[L])}</h3>`;
      if (!s.features.length) { html += `<div class="muted">${esc(t("none"))}</div>`; continue; }
      for (const f of s.features) {
        if (s.kind === "overlap") {
          const sw = f.meaning && f.meaning.color ? `<span class="sw" style="background:${esc(f.meaning.color)}"></span> ` : "";
          html += `<div class="zone">${sw}${f.title != null ? `<b data-testid="overlap-title">${esc(f.title)}</b> · ` : ""}<b>${esc(f.code ?? (f.title != null ? "" : "#" + f.fid))}</b>${f.meaning ? ` — ${esc(f.meaning[L])}` : ""}
            <div>${esc(t("intersection"))}: <b>${esc(fmt(f.intersection_m2))} m²</b> · ${esc(t("share"))}: <b>${esc(fmt(f.share_pct, 1))} %</b></div>
            <div class="bar"><i style="width:${Math.min(100, f.share_pct || 0)}%"></i></div>
            <details><summary class="muted">${esc(t("feature"))} #${f.fid}</summary><table>${propRows(f.properties)}</table></details></div>`;
        } else {
          html += `<div class="zone"><div>${esc(t("distance"))}: <b>${esc(fmt(f.distance_m, 1))} m</b></div><table>${propRows(f.properties)}</table></div>`;
        }
      }
    }
    html += floodHtml(doc.flood_depth);
    html += `<p class="muted">${esc(t("methods"))} ${esc(t("shiftHint"))}.</p>`;
    showPanel(html);
    const z = $("#zoom-parcel");
    if (z) z.onclick = () => state.map.fitBounds(doc.bbox, { padding: 80, maxZoom: 18.5 });
  }

  function floodHtml(rows) {
    if (!rows || !rows.length) return "";
    const L = state.lang;
    let html = `<h3 data-section="flood_depth">${esc(t("floodDepth"))}</h3>`;
    for (const r of rows) {
      const classes = (r.classes || []).filter((c) => c.share > 0);
      const cov = r.count && r.coverage != null && r.coverage < 0.999 ? ` <span class="muted">(${esc(t("floodCoverage"))}: ${esc(fmt(100 * r.coverage, 0))} %)</span>` : "";
      html += `<div class="zone flood" data-layer="${esc(r.layer)}">
        <div data-testid="flood-line">${esc((r.summary && (r.summary[L] || r.summary.vi)) || "")}${cov}</div>
        ${classes.length ? `<div class="bar stack">${classes.map((c) => `<i style="width:${(100 * c.share).toFixed(2)}%;background:${esc(c.color || "#0b5394")}" title="${esc(c.label[L])}: ${esc(fmt(100 * c.share, 1))} %"></i>`).join("")}</div>
        <div class="muted">${classes.map((c) => `${esc(c.label[L])}: ${esc(fmt(100 * c.share, 1))} %`).join(" · ")}</div>` : ""}
      </div>`;
    }
    return html;
  }

  function showFeature(f) {
    if (state.featurePanel) return void state.featurePanel(f); // panel.js
    const c = state.collections.find((x) => x.id === f.sourceLayer);
    const title = c ? ((c.titles && c.titles[state.lang]) || c.title) : f.sourceLayer;
    const rows = Object.entries(f.properties).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(fmt(v))}</td></tr>`).join("");
    state.planning = null;
    showPanel(`<h2>${esc(title)}</h2><div class="muted">fid ${esc(f.id)}</div><table>${rows}</table>
      <div class="actions"><a href="/ogc/collections/${esc(f.sourceLayer)}/items/${esc(f.id)}?f=html" target="_blank" rel="noopener">HTML</a></div>`);
  }

  // -- search ---------------------------------------------------------------------------------
  let lastResults = [];
  let searchSeq = 0; // answers of an older search (typing) never overwrite a newer one
  let typingTimer;
  async function doSearch(q, { go = false } = {}) {
    const ul = $("#results");
    clearTimeout(typingTimer);
    const seq = ++searchSeq;
    if (!q.trim()) { ul.hidden = true; return []; }
    const doc = await getJSON(`/api/search?q=${encodeURIComponent(q)}`);
    if (seq !== searchSeq) return doc.results;
    lastResults = doc.results;
    if (!doc.results.length) {
      ul.innerHTML = `<li class="empty">${esc(t("noResults"))}</li>`;
    } else {
      ul.innerHTML = doc.results.map((r, i) =>
        `<li data-i="${i}" data-kind="${esc(r.kind)}"><span class="kind">${esc(t("kinds")[r.kind] || r.kind)}</span>${esc(r.label[state.lang] || r.label.vi)}</li>`).join("");
    }
    ul.hidden = false;
    if (go && doc.results.length === 1) goTo(doc.results[0]);
    return doc.results;
  }

  function goTo(r) {
    clearTimeout(typingTimer);
    searchSeq++;
    $("#results").hidden = true;
    const [x0, y0, x1, y1] = r.bbox || [r.point[0], r.point[1], r.point[0], r.point[1]];
    // a place (a market, a hamlet) is seen with its surroundings, an address up close
    if (x1 - x0 < 1e-6 && y1 - y0 < 1e-6) state.map.flyTo({ center: r.point, zoom: r.kind === "place" ? 16 : 18, duration: 600 });
    else state.map.fitBounds([x0, y0, x1, y1], { padding: 60, maxZoom: r.kind === "ward" ? 15 : 18.5, duration: 600 });
    state.map.getSource("spp-pin").setData({ type: "Feature", geometry: { type: "Point", coordinates: r.point }, properties: {} });
    const parcel = r.kind === "parcel" && r.layer === PARCELS ? r.fid : r.parcel_fid;
    if (parcel != null) {
      if (!state.visible.has(PARCELS)) { state.visible.add(PARCELS); applyLayerState(PARCELS); renderTree(); }
      selectParcel(parcel);
    }
  }

  // -- measuring (geodesic on a sphere of the mean Earth radius; differences to the WGS 84
  //    ellipsoid stay under 0.5 % at Cần Thơ's latitude) ----------------------------------------
  const R = 6371008.8;
  const rad = (d) => d * Math.PI / 180;
  function haversine(a, b) {
    const dLat = rad(b[1] - a[1]), dLon = rad(b[0] - a[0]);
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a[1])) * Math.cos(rad(b[1])) * Math.sin(dLon / 2) ** 2;
    return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  function pathLength(pts) { let s = 0; for (let i = 1; i < pts.length; i++) s += haversine(pts[i - 1], pts[i]); return s; }
  function sphericalArea(pts) { // ring area on the sphere (spherical excess by the trapezoid sum)
    if (pts.length < 3) return 0;
    let s = 0;
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i], b = pts[(i + 1) % pts.length];
      s += rad(b[0] - a[0]) * (2 + Math.sin(rad(a[1])) + Math.sin(rad(b[1])));
    }
    return Math.abs(s * R * R / 2);
  }
  const fmtLen = (m) => m >= 1000 ? `${fmt(m / 1000, 3)} km` : `${fmt(m, 1)} m`;
  const fmtArea = (m2) => m2 >= 1e6 ? `${fmt(m2 / 1e6, 3)} km²` : m2 >= 1e4 ? `${fmt(m2, 0)} m² (${fmt(m2 / 1e4, 2)} ha)` : `${fmt(m2, 1)} m²`;
  window.sppGeodesy = { haversine, pathLength, sphericalArea };

  function startMeasure(mode) {
    const same = state.measure && state.measure.mode === mode;
    stopMeasure();
    if (same) return;
    state.measure = { mode, pts: [], done: false };
    state.map.doubleClickZoom.disable();
    state.map.getCanvas().style.cursor = "crosshair";
    $(mode === "line" ? "#btn-measure-line" : "#btn-measure-area").classList.add("active");
    $("#measure-box").hidden = false;
    updateMeasure();
  }
  function stopMeasure() {
    state.measure = null;
    state.map.doubleClickZoom.enable();
    state.map.getCanvas().style.cursor = "";
    $("#btn-measure-line").classList.remove("active");
    $("#btn-measure-area").classList.remove("active");
    $("#measure-box").hidden = true;
    state.map.getSource("spp-measure") && state.map.getSource("spp-measure").setData({ type: "FeatureCollection", features: [] });
  }
  function updateMeasure() {
    const m = state.measure;
    if (!m || !state.map) return;
    const feats = m.pts.map((p) => ({ type: "Feature", geometry: { type: "Point", coordinates: p }, properties: {} }));
    if (m.pts.length >= 2) {
      const ring = m.mode === "area" && m.pts.length >= 3 ? [...m.pts, m.pts[0]] : m.pts;
      feats.push({ type: "Feature", geometry: m.mode === "area" && m.pts.length >= 3
        ? { type: "Polygon", coordinates: [ring] } : { type: "LineString", coordinates: ring }, properties: {} });
    }
    state.map.getSource("spp-measure").setData({ type: "FeatureCollection", features: feats });
    let text = t("measureHint");
    if (m.mode === "line" && m.pts.length >= 2) text = `${t("distanceTotal")}: ${fmtLen(pathLength(m.pts))}`;
    if (m.mode === "area" && m.pts.length >= 3) text = `${t("areaTotal")}: ${fmtArea(sphericalArea(m.pts))} · ${t("perimeter")}: ${fmtLen(pathLength([...m.pts, m.pts[0]]))}`;
    $("#measure-text").textContent = text;
    $("#measure-text").dataset.testid = "measure-result";
  }

  // -- start ----------------------------------------------------------------------------------
  async function main() {
    await (window.sppAuth && window.sppAuth.ready); // signin.js: a sign-in being completed
    const h = readHash();
    if (h.lang) state.lang = h.lang;
    if (typeof maplibregl === "undefined") {
      document.body.insertAdjacentHTML("beforeend", '<p style="position:fixed;top:60px;left:10px;background:#fff;padding:10px">MapLibre GL JS is missing: run <code>./spp setup</code> (npm ci in services/web).</p>');
      return;
    }
    // the feature layers (the list also holds the catalogue of datasets, itemType "record")
    try { state.collections = ((await getJSON("/ogc/collections")).collections || []).filter((c) => c.itemType === "feature"); } catch (e) { state.collections = []; }
    try { state.rasters = (await getJSON("/api/rasters")).rasters || []; } catch (e) { state.rasters = []; }
    PARCELS = withRole("parcels");
    WARDS = withRole("wards");
    const all = [...state.collections, ...state.rasters];
    const ids = new Set(all.map((c) => c.id));
    (h.layers || defaultVisible(all)).filter((id) => ids.has(id)).forEach((id) => state.visible.add(id));
    const style = await buildStyle();
    const map = new maplibregl.Map({
      container: "map", style, center: (h.view || HOME).center, zoom: (h.view || HOME).zoom,
      attributionControl: { compact: true }, maxZoom: 21,
      transformRequest: window.sppAuth && window.sppAuth.transformRequest, // our origin only
    });
    state.map = map;
    window.sppMap = map;
    map.addControl(new maplibregl.NavigationControl(), "bottom-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
    map.on("load", () => {
      map.addSource("spp-sel", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
      map.addSource("spp-pin", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
      map.addSource("spp-measure", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
      if (PARCELS) map.addLayer({ id: "spp-sel-multi", type: "line", source: "spp", "source-layer": PARCELS, minzoom: 13,
        paint: { "line-color": "#d7191c", "line-width": 2.5, "line-opacity": ["case", ["boolean", ["feature-state", "selected"], false], 1, 0] } });
      map.addLayer({ id: "spp-sel-fill", type: "fill", source: "spp-sel", paint: { "fill-color": "#d7191c", "fill-opacity": 0.18 } });
      map.addLayer({ id: "spp-sel-line", type: "line", source: "spp-sel", paint: { "line-color": "#d7191c", "line-width": 3 } });
      map.addLayer({ id: "spp-pin", type: "circle", source: "spp-pin", paint: { "circle-radius": 7, "circle-color": "#0b5394", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
      map.addLayer({ id: "spp-measure-fill", type: "fill", source: "spp-measure", filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": "#ff7f00", "fill-opacity": 0.15 } });
      map.addLayer({ id: "spp-measure-line", type: "line", source: "spp-measure", filter: ["!=", ["geometry-type"], "Point"], paint: { "line-color": "#ff7f00", "line-width": 2.5, "line-dasharray": [2, 1] } });
      map.addLayer({ id: "spp-measure-pt", type: "circle", source: "spp-measure", filter: ["==", ["geometry-type"], "Point"], paint: { "circle-radius": 4, "circle-color": "#fff", "circle-stroke-color": "#ff7f00", "circle-stroke-width": 2 } });
      addRasterLayers();
      indexStyleLayers();
      Object.keys(state.styleLayers).forEach(applyLayerState);
      renderTree();
      loadLegends();
      if (h.parcel != null) selectParcel(h.parcel, { fly: !h.view });
      state.ready = true;
      document.dispatchEvent(new CustomEvent("spp:ready", { detail: state })); // basemap.js
    });
    map.on("sourcedata", (e) => { // re-apply multi-selection highlight as tiles arrive
      if (e.sourceId === "spp" && e.isSourceLoaded) for (const fid of state.selected) setSelectedState(fid, true);
    });
    map.on("moveend", writeHash);
    map.on("click", (e) => {
      if (state.pick) { state.pick([e.lngLat.lng, e.lngLat.lat]); return; } // report.js: a place
      if (state.measure) {
        if (state.measure.done) state.measure = { mode: state.measure.mode, pts: [], done: false };
        state.measure.pts.push([e.lngLat.lng, e.lngLat.lat]);
        updateMeasure();
        return;
      }
      const parcelLayers = (state.styleLayers[PARCELS] || []).map((l) => l.id).filter((id) => map.getLayer(id));
      const hits = parcelLayers.length && state.visible.has(PARCELS) ? map.queryRenderedFeatures(e.point, { layers: parcelLayers }) : [];
      if (hits.length && hits[0].id != null) {
        selectParcel(Number(hits[0].id), { add: e.originalEvent.shiftKey || e.originalEvent.ctrlKey || e.originalEvent.metaKey });
        return;
      }
      const other = map.queryRenderedFeatures(e.point).filter((f) => f.source === "spp" && f.sourceLayer !== WARDS);
      if (other.length) showFeature(other[0]);
    });
    map.on("dblclick", (e) => { if (state.measure) { e.preventDefault(); state.measure.done = true; updateMeasure(); } });
    map.on("error", (e) => console.warn("map error", e && e.error && e.error.message));

    $("#layer-tree").addEventListener("input", onTreeInput);
    $("#panel-close").onclick = () => {
      $("#panel").hidden = true; clearSelection(); state.current = null; state.planning = null;
      map.getSource("spp-sel").setData({ type: "FeatureCollection", features: [] }); writeHash(); map.resize();
    };
    $("#search").addEventListener("submit", (e) => { e.preventDefault(); doSearch($("#q").value, { go: true }).catch((err) => status(err.message)); });
    $("#q").addEventListener("input", () => {
      clearTimeout(typingTimer);
      const q = $("#q").value;
      if (q.trim().length >= 3) typingTimer = setTimeout(() => doSearch(q).catch(() => {}), 300);
    });
    $("#results").addEventListener("click", (e) => { const li = e.target.closest("li[data-i]"); if (li) goTo(lastResults[Number(li.dataset.i)]); });
    $("#btn-lang").onclick = () => { state.lang = state.lang === "vi" ? "en" : "vi"; applyLang(); writeHash(); };
    $("#btn-measure-line").onclick = () => startMeasure("line");
    $("#btn-measure-area").onclick = () => startMeasure("area");
    $("#measure-clear").onclick = stopMeasure;
    $("#btn-layers").onclick = () => document.body.classList.toggle("side-open");
    window.addEventListener("hashchange", () => {
      const n = readHash();
      if (n.parcel != null && n.parcel !== state.current) selectParcel(n.parcel, { fly: true });
    });
    applyLang();
  }

  state.treeGroups = treeGroups;
  state.defaultVisible = defaultVisible;
  state.selectParcel = selectParcel;
  state.search = doSearch;
  state.goTo = goTo;
  Object.assign(state, { showPanel, status });
  main().catch((e) => { console.error(e); status(String(e)); });
})();
