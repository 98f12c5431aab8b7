// Browser check of a dataset page's map preview: node tests/web/dataset.spec.mjs BASE ID...
// Opens /datasets/<id> for each id in Debian's chromium (playwright-core), waits until the
// preview map has drawn the dataset from this server's tiles, and records every request that
// left the server. Prints one JSON line; exits 1 on the first failed check.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "services", "web", "package.json"));
const { chromium } = require("playwright-core");

const base = (process.argv[2] || "http://127.0.0.1:8000").replace(/\/$/, "");
const ids = process.argv.slice(3);
const artifacts = path.join(here, "..", "artifacts");
mkdirSync(artifacts, { recursive: true });
const seen = { pages: {}, external: [] };

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run"],
});
let ok = false;
try {
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  for (const id of ids) {
    const page = await ctx.newPage();
    const errors = [];
    const tiles = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => {
      const u = r.url();
      if (!u.startsWith(base) && !u.startsWith("data:") && !u.startsWith("blob:")) seen.external.push(u);
      if (/\/tiles\/WebMercatorQuad\/\d+\/\d+\/\d+/.test(u)) tiles.push(u);
    });
    await page.goto(`${base}/datasets/${id}`);
    await page.waitForFunction(() => document.querySelector("#preview").dataset.ready === "1",
      null, { timeout: 60000 });
    const drawn = await page.evaluate(() => {
      const m = window.sppPreview;
      const layers = m.getStyle().layers.map((l) => l.id);
      const feats = m.getStyle().layers.some((l) => l.type === "raster") ? -1
        : m.queryRenderedFeatures().length;
      return { layers, feats, zoom: m.getZoom() };
    });
    await page.screenshot({ path: path.join(artifacts, `dataset-${id}.png`) });
    seen.pages[id] = { ...drawn, tiles: tiles.length, errors };
    check(errors.length === 0, `${id}: page errors ${errors.join("; ")}`);
    check(tiles.length > 0, `${id}: no tile requested`);
    check(drawn.feats !== 0, `${id}: nothing drawn`);
    await page.close();
  }
  check(seen.external.length === 0, `requests left the server: ${seen.external.join(", ")}`);
  ok = true;
} catch (e) {
  seen.error = String(e);
} finally {
  await browser.close();
  console.log(JSON.stringify({ ok, seen }));
  process.exit(ok ? 0 : 1);
}
