/* Print of the web map ("In / Print"): an A4 or A3, portrait or landscape PDF of the current
 * view, made on the device (phone too). MapLibre redraws the view off screen at print
 * resolution (192 dpi); jsPDF (vendored from npm) lays out the title, date, scale (1:N and a
 * bar), north arrow, the legend of the visible layers (the style legends app.js loaded),
 * the attribution and, when a parcel is selected, its planning summary (the extract planners
 * hand to citizens). Text uses DejaVu Sans (Debian's fonts-dejavu-core) so Vietnamese
 * diacritics survive. Reads the map state app.js exposes (window.spp); names no layer. */
(function () {
  "use strict";

  const T = {
    vi: { print: "In", heading: "In bản đồ (PDF)", title: "Tiêu đề", paper: "Khổ giấy", orient: "Hướng giấy",
      portrait: "Dọc", landscape: "Ngang", make: "Tạo PDF", cancel: "Đóng", working: "Đang tạo PDF…",
      defaultTitle: "Bản đồ quy hoạch — SPP Cần Thơ", date: "Ngày in", scale: "Tỷ lệ", legend: "Chú giải",
      planning: "Thông tin quy hoạch",
      intersection: "Giao", share: "Tỷ lệ", distance: "Khoảng cách", none: "Không có", north: "B",
      attribution: "Nguồn", note: "Bản in tham khảo; không thay thế văn bản cung cấp thông tin quy hoạch có giá trị pháp lý." },
    en: { print: "Print", heading: "Print the map (PDF)", title: "Title", paper: "Paper", orient: "Orientation",
      portrait: "Portrait", landscape: "Landscape", make: "Make PDF", cancel: "Close", working: "Making the PDF…",
      defaultTitle: "Planning map — SPP Cần Thơ", date: "Printed", scale: "Scale", legend: "Legend",
      planning: "Planning information",
      intersection: "Intersection", share: "Share", distance: "Distance", none: "None", north: "N",
      attribution: "Sources", note: "For reference; not a legally valid planning-information certificate." },
  };
  const PAPER = { A4: [210, 297], A3: [297, 420] }; // mm, portrait
  const DPI = 192; // map image: two image pixels per CSS pixel at 96 dpi
  const FONT = "/static/vendor/dejavu/DejaVuSans.ttf";
  const spp = () => window.spp;
  const t = (k) => (T[spp().lang] || T.vi)[k];
  let fontB64 = null;

  async function font() {
    if (fontB64) return fontB64;
    const buf = new Uint8Array(await (await fetch(FONT)).arrayBuffer());
    let s = "";
    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
    return (fontB64 = btoa(s));
  }

  const pad = (n) => String(n).padStart(2, "0");
  const today = (d = new Date()) => `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const num = (v, d = 2) => v == null ? "—" : typeof v === "number"
    ? v.toLocaleString(spp().lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: d }) : String(v);
  const plain = (html) => { const el = document.createElement("div"); el.innerHTML = html || ""; return el.textContent.trim(); };

  // the print is a plan: a 3D view is printed flat (pitch 0, so the scale holds everywhere) and
  // without its extrusions, which seen from straight above would cover the drawing under them
  function printStyle(style) {
    return { ...style, layers: style.layers.map((l) => l.metadata && l.metadata["spp:3d"]
      ? { ...l, layout: { ...(l.layout || {}), visibility: "none" } } : l) };
  }

  // the view redrawn off screen: the screen's view fitted into the print frame
  function renderMap(map, wpx, hpx) {
    const box = map.getContainer();
    const zoom = map.getZoom() + Math.log2(Math.min(wpx / box.clientWidth, hpx / box.clientHeight));
    const max = 4096; // below every phone's WebGL limit
    const ratio = Math.min(DPI / 96, max / wpx, max / hpx);
    const div = document.createElement("div");
    div.style.cssText = `position:fixed;left:-20000px;top:0;width:${wpx}px;height:${hpx}px`;
    document.body.appendChild(div);
    const off = new maplibregl.Map({ container: div, style: printStyle(map.getStyle()), center: map.getCenter(), zoom,
      bearing: map.getBearing(), pitch: 0, interactive: false, attributionControl: false, fadeDuration: 0,
      pixelRatio: ratio, canvasContextAttributes: { preserveDrawingBuffer: true },
      transformRequest: window.sppAuth && window.sppAuth.transformRequest }); // signin.js: staff tiles
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        try { resolve({ url: off.getCanvas().toDataURL("image/jpeg", 0.92), zoom, lat: off.getCenter().lat,
          bearing: off.getBearing(), w: off.getCanvas().width, h: off.getCanvas().height, present: present(off) }); } catch (e) { reject(e); }
        off.remove(); div.remove();
      };
      const timer = setTimeout(done, 45000); // print what has arrived rather than nothing
      off.once("idle", done);
    });
  }

  // the values drawn in the printed view, "layer property=value" (the legend lists only those, as
  // QGIS's "only show items inside the map extent")
  function present(off) {
    const s = spp();
    const seen = new Set();
    for (const id of s.visible) {
      const ids = (s.styleLayers[id] || []).map((l) => l.id).filter((l) => off.getLayer(l));
      if (!ids.length) continue;
      for (const f of off.queryRenderedFeatures({ layers: ids })) {
        for (const [k, v] of Object.entries(f.properties || {})) seen.add(`${id} ${k}=${v}`);
      }
    }
    return seen;
  }

  function visibleLegend(drawn) {
    const s = spp();
    const L = s.lang;
    const layers = [...s.collections, ...s.rasters].filter((c) => s.visible.has(c.id) && s.styleLayers[c.id]);
    return layers.map((c) => {
      const lg = s.legends[c.id];
      const entries = (lg && lg.layers && lg.layers[0] && lg.layers[0].entries) || [];
      const title = (c.titles && c.titles[L]) || (c.title && (c.title[L] || c.title)) || c.id;
      const shown = entries.filter((e) => !["symbol", "label"].includes(e.kind)
        && (!e.values || e.values.some((v) => drawn.has(`${c.id} ${e.property}=${v}`))));
      return { title: String(title), entries: shown.map((e) => ({ label: (e.label && (e.label[L] || e.label.vi)) || "",
        color: e.color || "#888", kind: e.kind || e.geometry || "fill" })) };
    });
  }

  function planningLines(doc) {
    const L = spp().lang;
    const rows = (props) => props.filter((p) => p.value != null && p.value !== "")
      .map((p) => `${p.label[L]}: ${num(p.value)}${p.meaning ? ` — ${p.meaning[L]}` : ""}`);
    const out = [{ h: doc.label[L] }, ...rows(doc.properties), { h: t("planning") }]; // "Thửa 49, tờ 2, …"
    for (const s of doc.sections) {
      out.push({ b: s.title[L] });
      if (!s.features.length) out.push(t("none"));
      for (const f of s.features) {
        if (s.kind === "overlap") {
          out.push(`${f.code ?? "#" + f.fid}${f.meaning ? ` — ${f.meaning[L]}` : ""}: ${t("intersection")} ${num(f.intersection_m2)} m², ${t("share")} ${num(f.share_pct, 1)} %`);
        } else {
          out.push(`${t("distance")} ${num(f.distance_m, 1)} m: ${rows(f.properties).slice(0, 2).join("; ")}`);
        }
      }
    }
    out.push({ small: t("note") });
    return out;
  }

  // metres a paper millimetre stands for, and a round scale-bar length
  function scaleOf(img, wpx, frameW) {
    const mPerPx = 40075016.686 * Math.cos(img.lat * Math.PI / 180) / (512 * 2 ** img.zoom);
    const mPerMm = mPerPx * wpx / frameW;
    const target = mPerMm * Math.min(40, frameW / 4);
    const p = 10 ** Math.floor(Math.log10(target));
    const bar = [5, 2, 1].map((k) => k * p).find((v) => v <= target);
    return { denominator: Math.round(mPerMm * 1000), bar, barMm: bar / mPerMm };
  }

  async function makePdf({ paper = "A4", orientation = "landscape", title } = {}) {
    const s = spp();
    const { jsPDF } = window.jspdf;
    const [pw, ph] = orientation === "landscape" ? [...PAPER[paper]].reverse() : PAPER[paper];
    const doc = new jsPDF({ orientation, unit: "mm", format: paper.toLowerCase(), compress: true });
    doc.addFileToVFS("DejaVuSans.ttf", await font());
    doc.addFont("DejaVuSans.ttf", "DejaVuSans", "normal");
    doc.setFont("DejaVuSans", "normal");
    const m = 10;
    const head = 20;
    const foot = 8;
    const side = orientation === "landscape" ? (paper === "A3" ? 95 : 80) : 0;
    const frame = { x: m, y: m + head, w: pw - 2 * m - (side ? side + 5 : 0) };
    frame.h = side ? ph - frame.y - m - foot : Math.round((ph - frame.y - m - foot) * 0.64);
    const wpx = Math.round(frame.w / 25.4 * 96);
    const hpx = Math.round(frame.h / 25.4 * 96);
    const img = await renderMap(s.map, wpx, hpx);
    const sc = scaleOf(img, wpx, frame.w);

    doc.setFontSize(paper === "A3" ? 20 : 16);
    doc.text(doc.splitTextToSize(title || t("defaultTitle"), pw - 2 * m)[0], m, m + 7);
    doc.setFontSize(9);
    doc.text(`${t("date")}: ${today()}    ${t("scale")} 1:${sc.denominator.toLocaleString("de-DE")}`, m, m + 14);
    doc.addImage(img.url, "JPEG", frame.x, frame.y, frame.w, frame.h);
    doc.setDrawColor(60); doc.setLineWidth(0.3); doc.rect(frame.x, frame.y, frame.w, frame.h);

    // scale bar (bottom left of the frame) and north arrow (top right), vector
    const bx = frame.x + 4;
    const by = frame.y + frame.h - 5;
    doc.setFillColor(255, 255, 255); doc.rect(bx - 2, by - 6, sc.barMm + 20, 9, "F");
    doc.setFillColor(0, 0, 0); doc.rect(bx, by - 1, sc.barMm / 2, 1.5, "F"); doc.rect(bx, by - 1, sc.barMm, 1.5, "S");
    doc.setFontSize(7);
    doc.text(sc.bar >= 1000 ? `${sc.bar / 1000} km` : `${sc.bar} m`, bx + sc.barMm + 2, by + 0.5);
    doc.text(`1:${sc.denominator}`, bx, by - 2.5);
    const cx = frame.x + frame.w - 10;
    const cy = frame.y + 12;
    const rot = (dx, dy) => { const a = -img.bearing * Math.PI / 180; return [cx + dx * Math.cos(a) - dy * Math.sin(a), cy + dx * Math.sin(a) + dy * Math.cos(a)]; };
    doc.setFillColor(255, 255, 255); doc.circle(cx, cy, 8, "F");
    const [tip, l, r, base] = [rot(0, -7), rot(-3, 2.5), rot(3, 2.5), rot(0, 0.5)];
    doc.setFillColor(0, 0, 0);
    doc.triangle(tip[0], tip[1], l[0], l[1], base[0], base[1], "F");
    doc.triangle(tip[0], tip[1], r[0], r[1], base[0], base[1], "S");
    doc.setFontSize(8);
    const nl = rot(0, 6);
    doc.text(t("north"), nl[0], nl[1] + 1, { align: "center" });

    // attribution along the bottom
    const sources = Object.values(s.map.getStyle().sources || {}).map((x) => plain(x.attribution)).filter(Boolean);
    doc.setFontSize(7);
    doc.text(doc.splitTextToSize(`${t("attribution")}: ${[...new Set(sources)].join(" · ") || "SPP Cần Thơ"}`, pw - 2 * m)[0], m, ph - m);

    // legend, then the planning summary, flowing through the side column or two columns below,
    // then through two columns of a further page (nothing is cut off)
    const halves = (top) => [0, 1].map((i) => ({ x: m + i * (pw - 2 * m + 5) / 2, y: top, w: (pw - 2 * m - 5) / 2, bottom: ph - m - foot }));
    let cols = side ? [{ x: pw - m - side, y: frame.y, w: side, bottom: ph - m - foot }] : halves(frame.y + frame.h + 6);
    let col = 0;
    let y = cols[0].y;
    const room = (h) => {
      if (y + h <= cols[col].bottom) return true;
      if (col + 1 >= cols.length) {
        if (doc.getNumberOfPages() >= 5) return false;
        doc.addPage(paper.toLowerCase(), orientation);
        cols = halves(m + 6); col = -1;
        const size = doc.getFontSize();
        doc.setFontSize(8); doc.text(`${title || t("defaultTitle")} (${doc.getNumberOfPages()})`, m, m + 2);
        doc.setFontSize(size);
      }
      col += 1; y = cols[col].y; return true;
    };
    const write = (text, { size = 8, indent = 0, gap = 0 } = {}) => {
      doc.setFontSize(size);
      for (const line of doc.splitTextToSize(text, cols[col].w - indent)) {
        if (!room(size * 0.45 + gap)) return false;
        y += size * 0.42 + gap;
        doc.text(line, cols[col].x + indent, y);
      }
      y += 1;
      return true;
    };
    const swatch = (e, x, yy) => {
      const c = e.color.startsWith("#") ? e.color : "#888888";
      doc.setFillColor(c); doc.setDrawColor(c);
      if (e.kind.includes("line")) { doc.setLineWidth(0.8); doc.line(x, yy - 1.2, x + 5, yy - 1.2); doc.setLineWidth(0.3); }
      else if (e.kind.includes("circle") || e.kind.includes("point")) doc.circle(x + 2.5, yy - 1.2, 1.3, "F");
      else doc.rect(x, yy - 2.6, 5, 2.8, "F");
    };
    write(t("legend"), { size: 11, gap: 1 });
    for (const layer of visibleLegend(img.present)) {
      if (!write(layer.title, { size: 8.5, gap: 0.8 })) break;
      for (const e of layer.entries.slice(0, 14)) {
        if (!room(4)) break;
        y += 3.4;
        swatch(e, cols[col].x + 2, y);
        doc.setFontSize(7.5);
        doc.text(doc.splitTextToSize(e.label, cols[col].w - 10)[0] || "", cols[col].x + 9, y);
      }
      y += 1;
    }
    if (s.planning && s.current != null) {
      y += 3;
      for (const line of planningLines(s.planning)) {
        const ok = typeof line === "string" ? write(line, { size: 7.5 })
          : line.h ? write(line.h, { size: 10.5, gap: 1 }) : line.b ? write(line.b, { size: 8.5, gap: 0.6 }) : write(line.small, { size: 6.5 });
        if (!ok) break;
      }
    }
    return { pdf: doc.output("blob"), image: { width: img.w, height: img.h, url: img.url }, scale: sc.denominator };
  }

  function dialog() {
    let dlg = document.getElementById("print-dialog");
    if (!dlg) {
      dlg = document.createElement("dialog");
      dlg.id = "print-dialog";
      document.body.appendChild(dlg);
    }
    const s = spp();
    const title = s.planning && s.current != null ? `${t("defaultTitle")} — ${s.planning.label[s.lang]}` : t("defaultTitle");
    dlg.innerHTML = `<form method="dialog" class="print-form">
      <h2>${t("heading")}</h2>
      <label>${t("title")} <input name="title" maxlength="200"></label>
      <label>${t("paper")} <select name="paper"><option>A4</option><option>A3</option></select></label>
      <label>${t("orient")} <select name="orientation"><option value="landscape">${t("landscape")}</option>
        <option value="portrait">${t("portrait")}</option></select></label>
      <p class="print-status" role="status"></p>
      <div class="actions"><button value="make" class="primary">${t("make")}</button> <button value="cancel">${t("cancel")}</button></div>
    </form>`;
    dlg.querySelector("[name=title]").value = title;
    const form = dlg.querySelector("form");
    form.addEventListener("submit", async (ev) => {
      if (ev.submitter && ev.submitter.value === "cancel") return;
      ev.preventDefault();
      const msg = dlg.querySelector(".print-status");
      const btn = dlg.querySelector("button.primary");
      btn.disabled = true; msg.textContent = t("working");
      try {
        const opts = Object.fromEntries(new FormData(form));
        const out = await makePdf(opts);
        const a = document.createElement("a");
        a.href = URL.createObjectURL(out.pdf);
        a.download = `ban-do-${opts.paper}-${opts.orientation}.pdf`;
        document.body.appendChild(a); a.click(); a.remove();
        setTimeout(() => URL.revokeObjectURL(a.href), 60000);
        dlg.close();
      } catch (e) {
        msg.textContent = String(e && e.message || e);
      } finally { btn.disabled = false; }
    });
    dlg.showModal();
  }

  function button() {
    const tools = document.querySelector("#topbar .tools");
    if (!tools || document.getElementById("btn-print")) return;
    const b = document.createElement("button");
    b.id = "btn-print";
    b.type = "button";
    b.textContent = t("print");
    b.onclick = dialog;
    tools.insertBefore(b, document.getElementById("btn-lang"));
    document.addEventListener("spp:lang", () => { b.textContent = t("print"); });
  }

  document.addEventListener("spp:ready", button);
  window.sppPrint = { makePdf, printStyle };
})();
