// Browser test of the print (services/web/print.js): node tests/web/print.spec.mjs BASE OUTDIR
// Selects a sample parcel, prints A4 landscape and A3 portrait through the print dialog, saves
// the downloaded PDFs to OUTDIR and prints one JSON line with what the page showed (the
// attribution, the visible layers' titles, the parcel's label and ward) for the Python side to
// find in the PDFs. Exits 1 on the first failed check.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "services", "web", "package.json"));
const { chromium } = require("playwright-core");

const base = (process.argv[2] || "http://127.0.0.1:8000").replace(/\/$/, "");
const out = process.argv[3] || path.join(here, "..", "artifacts");
mkdirSync(out, { recursive: true });
const seen = { pdfs: {} };
const check = (cond, msg) => { if (!cond) throw new Error(`check failed: ${msg}`); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run"],
});
const external = [];
try {
  // a phone-sized screen: the dialog and the PDF both work there
  const ctx = await browser.newContext({ viewport: { width: 412, height: 860 }, isMobile: true, hasTouch: true,
    deviceScaleFactor: 1, acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith(base) && !/^(data|blob):/.test(r.url())) external.push(r.url()); });
  const target = (await (await fetch(base + "/api/search?q=" + encodeURIComponent("31135 2 49"))).json()).results[0];
  check(target && target.kind === "parcel", "sample parcel found");
  await page.goto(`${base}/#map=17.5/${target.point[1]}/${target.point[0]}&parcel=${target.fid}`);
  await page.waitForFunction(() => window.spp && window.spp.ready && window.spp.planning && window.sppMap.loaded()
    && Object.keys(window.spp.legends).length > 0, null, { timeout: 60000 });
  await page.waitForSelector("#btn-print");
  Object.assign(seen, await page.evaluate(() => {
    const s = window.spp;
    const L = s.lang;
    return {
      parcel: s.planning.label[L], sections: s.planning.sections.map((x) => x.title[L]), properties: s.planning.properties.map((p) => String(p.value ?? "")),
      attribution: document.querySelector(".maplibregl-ctrl-attrib-inner")?.textContent || "",
      legend: [...s.collections, ...s.rasters].filter((c) => s.visible.has(c.id) && s.styleLayers[c.id])
        .map((c) => (c.titles && c.titles[L]) || c.title || c.id),
    };
  }));
  for (const [paper, orientation, title] of [["A4", "landscape", "Trích lục quy hoạch Phường Ninh Kiều"],
    ["A3", "portrait", "Bản đồ A3 dọc — Cần Thơ"]]) {
    await page.click("#btn-print");
    await page.waitForSelector("#print-dialog[open]");
    check((await page.inputValue("#print-dialog [name=title]")).includes("Thửa"), "default title names the parcel");
    await page.fill("#print-dialog [name=title]", title);
    await page.selectOption("#print-dialog [name=paper]", paper);
    await page.selectOption("#print-dialog [name=orientation]", orientation);
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 120000 }),
      page.click("#print-dialog button.primary")]);
    const file = path.join(out, `print-${paper}-${orientation}.pdf`);
    await download.saveAs(file);
    seen.pdfs[`${paper}-${orientation}`] = { file, title };
    await page.waitForFunction(() => !document.querySelector("#print-dialog").open, null, { timeout: 10000 });
  }
  // the 3D view prints as the same plan: flat, at the same scale, the extrusions left out
  seen.tilt = await page.evaluate(async () => {
    const m = window.sppMap;
    const idle = () => new Promise((ok) => { m.once("idle", ok); m.triggerRepaint(); });
    const flat = await window.sppPrint.makePdf({ paper: "A4", orientation: "landscape" });
    window.sppBasemap.set3d(true);
    await new Promise((ok) => setTimeout(ok, 900));
    await idle();
    const shown3d = m.getStyle().layers.filter((l) => l.metadata && l.metadata["spp:3d"]
      && m.getLayoutProperty(l.id, "visibility") === "visible").map((l) => l.id);
    const tilted = await window.sppPrint.makePdf({ paper: "A4", orientation: "landscape" });
    const pitch = m.getPitch();
    window.sppBasemap.set3d(false);
    const pixels = async (url) => {
      const im = new Image();
      im.src = url;
      await im.decode();
      const c = document.createElement("canvas");
      c.width = im.width; c.height = im.height;
      const g = c.getContext("2d");
      g.drawImage(im, 0, 0);
      return g.getImageData(0, 0, c.width, c.height).data;
    };
    const [a, b] = [await pixels(flat.image.url), await pixels(tilted.image.url)];
    let diff = 0;
    for (let i = 0; i < a.length; i += 4) diff += Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]);
    return { pitch, shown3d, scales: [flat.scale, tilted.scale], size: [flat.image.width, tilted.image.width],
      meanDiff: diff / (a.length / 4) / 3 };
  });
  seen.errors = errors;
  check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  check(external.length === 0, `requests left the server: ${external.join(", ")}`);
  console.log(JSON.stringify({ ok: true, seen }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e), seen, external }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
