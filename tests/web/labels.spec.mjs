// Browser test of the map's labels (glyphs from this server's /fonts):
//   node tests/web/labels.spec.mjs BASE
// BASE: `gis serve` on the label fixtures (tests/labels_fixtures.py). Opens the map at two
// views, collects the text of the rendered symbol features of every "<layer>-label" style
// layer (queryRenderedFeatures), screenshots them into tests/artifacts/, and records every
// request. Prints one JSON line with what it saw; exits 1 on the first failed check.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "services", "web", "package.json"));
const { chromium } = require("playwright-core");

const base = process.argv[2].replace(/\/$/, "");
const artifacts = path.join(here, "..", "artifacts");
mkdirSync(artifacts, { recursive: true });
const shot = (name) => path.join(artifacts, `labels-${name}.png`);
const WIDE = "map=15.2/10.033/105.787&layers=admin_units,roads,waterways,investment_projects,land_use_plan_zones";
const NEAR = "map=18.7/10.0306/105.7835&layers=admin_units,roads,cadastral_parcels,address_points";
const seen = { requests: [], glyphs: [] };

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});

// the text each rendered label shows: its layer's text-field evaluated on the feature
async function labels(page) {
  await page.waitForFunction(() => window.sppMap.loaded() && window.sppMap.areTilesLoaded(), null, { timeout: 30000 });
  await page.evaluate(() => new Promise((ok) => { window.sppMap.once("idle", ok); window.sppMap.triggerRepaint(); }));
  return page.evaluate(() => {
    const m = window.sppMap;
    const ids = m.getStyle().layers.filter((l) => l.type === "symbol" && l.id.endsWith("-label")).map((l) => l.id);
    const text = (expr, p) => {
      if (!Array.isArray(expr)) return String(expr);
      if (expr[0] === "get") return p[expr[1]] == null ? "" : String(p[expr[1]]);
      if (expr[0] === "to-string") return text(expr[1], p);
      if (expr[0] === "coalesce") return text(expr[1], p);
      if (expr[0] === "concat") return expr.slice(1).map((e) => text(e, p)).join("");
      return "?";
    };
    const out = {};
    for (const f of m.queryRenderedFeatures({ layers: ids })) {
      const t = text(m.getLayoutProperty(f.layer.id, "text-field"), f.properties);
      (out[f.layer.id] = out[f.layer.id] || []).includes(t) || out[f.layer.id].push(t);
    }
    return { ids, out };
  });
}

try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2 });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  page.on("request", (r) => {
    seen.requests.push(r.url());
    if (r.url().includes("/fonts/")) seen.glyphs.push(decodeURIComponent(new URL(r.url()).pathname));
  });
  await page.goto(`${base}/#${WIDE}`);
  await page.waitForFunction(() => window.spp && window.spp.ready && window.sppMap && window.sppMap.loaded(), null, { timeout: 60000 });
  seen.glyphsUrl = await page.evaluate(() => window.sppMap.getStyle().glyphs);
  seen.wide = await labels(page);
  await page.screenshot({ path: shot("01-wide") });
  // the two ward names and the river close up (stacked marks: ề, ă, ơ)
  const close = await (await browser.newContext({ viewport: { width: 900, height: 600 }, deviceScaleFactor: 2 })).newPage();
  close.on("request", (r) => seen.requests.push(r.url()));
  await close.goto(`${base}/#${WIDE.replace("15.2/10.033/105.787", "16.3/10.0365/105.7855")}`);
  await close.waitForFunction(() => window.spp && window.spp.ready && window.sppMap && window.sppMap.loaded(), null, { timeout: 60000 });
  seen.closeUp = await labels(close);
  await close.screenshot({ path: shot("02-names-close"), clip: { x: 290, y: 52, width: 610, height: 548 } });
  await page.evaluate((h) => { location.hash = h; }, NEAR);
  await page.reload();
  await page.waitForFunction(() => window.spp && window.spp.ready && window.sppMap && window.sppMap.loaded(), null, { timeout: 60000 });
  seen.near = await labels(page);
  await page.screenshot({ path: shot("03-parcels-houses") });
  // a ward over several tiles: its outline comes in one piece a tile, its name once
  const ward = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
  ward.on("request", (r) => seen.requests.push(r.url()));
  await ward.goto(`${base}/#map=15/10.033/105.779&layers=admin_units`);
  await ward.waitForFunction(() => window.spp && window.spp.ready && window.sppMap && window.sppMap.loaded(), null, { timeout: 60000 });
  await labels(ward);
  seen.ward = await ward.evaluate(() => {
    const m = window.sppMap;
    const named = (f) => f.properties.name === "Ninh Kiều";
    const pieces = m.queryRenderedFeatures({ layers: ["admin_units-outline"] }).filter(named);
    const labelled = m.queryRenderedFeatures({ layers: ["admin_units-label"] }).filter(named);
    return { pieces: pieces.length, labels: labelled.length };
  });
  await ward.screenshot({ path: shot("05-ward-once") });
  // a phone: the labels are there too
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const pp = await phone.newPage();
  pp.on("request", (r) => seen.requests.push(r.url()));
  await pp.goto(`${base}/#${WIDE.replace("15.2", "14.6")}`);
  await pp.waitForFunction(() => window.spp && window.spp.ready && window.sppMap && window.sppMap.loaded(), null, { timeout: 60000 });
  seen.phone = await labels(pp);
  await pp.screenshot({ path: shot("04-phone") });
  seen.errors = errors.filter((e) => !/favicon/.test(e));
  seen.outside = seen.requests.filter((u) => !u.startsWith(base + "/") && !u.startsWith("data:") && !u.startsWith("blob:"));
  check(seen.outside.length === 0, `requests left the server: ${seen.outside}`);
  console.log(JSON.stringify({ ok: true, seen }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.stack || e), seen }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
