// Browser test of a list page and the map's feature panel:
// node tests/web/lists.spec.mjs http://127.0.0.1:PORT '{"name","status","contact","odt","zone"}'
// On a phone-sized viewport: the catalogue lists the projects, the ward filter narrows them,
// a row's map link opens the map at the project with its name, status and contacts in the
// panel, a plan zone's panel gives its code's meaning; no request leaves the server.
// Prints one JSON line with what it saw; exits 1 on the first failed check.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "services", "web", "package.json"));
const { chromium } = require("playwright-core");

const base = process.argv[2].replace(/\/$/, "");
const want = JSON.parse(process.argv[3]);
const artifacts = path.join(here, "..", "artifacts");
mkdirSync(artifacts, { recursive: true });
const shot = (name) => path.join(artifacts, `${name}.png`);
const seen = {};
const check = (cond, msg) => { if (!cond) throw new Error(`check failed: ${msg}`); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run"],
});
const external = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) external.push(r.url()); });

  // 1. the catalogue: every project, then the ward filter
  await page.goto(`${base}/lists/investment_projects`);
  await page.waitForSelector("#rows tbody tr[data-fid]");
  seen.rows = await page.locator("#rows tbody tr[data-fid]").count();
  seen.scrollsWholePage = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  check(!seen.scrollsWholePage, "the page fits the phone's width (the table scrolls in its box)");
  await page.selectOption("[data-testid=filter-ward_name]", "Cái Răng");
  await page.waitForFunction(() => [...document.querySelectorAll("#rows tbody tr[data-fid]")].every((tr) => tr.textContent.includes("Cái Răng")));
  seen.caiRang = await page.locator("#rows tbody tr[data-fid]").count();
  seen.csvHref = await page.locator("[data-testid=csv]").getAttribute("href");
  check(seen.csvHref.includes("filter="), `the CSV link carries the filter: ${seen.csvHref}`);
  await page.screenshot({ path: shot("lists-01-phone"), fullPage: true });
  await page.selectOption("[data-testid=filter-ward_name]", "");
  await page.waitForFunction((n) => document.querySelectorAll("#rows tbody tr[data-fid]").length === n, seen.rows);

  // 2. the first row's map link: the map at the project, its panel
  const row = page.locator("#rows tbody tr[data-fid]", { hasText: want.name });
  await row.locator("[data-testid=map-link]").click();
  await page.waitForSelector("[data-testid=feature-title]", { timeout: 60000 });
  seen.title = await page.locator("[data-testid=feature-title]").innerText();
  seen.panel = await page.locator("#panel").innerText();
  check(seen.title.includes(want.name), `panel title: ${seen.title}`);
  check(!/#\d/.test(seen.title), "no bare id in the title");
  check(seen.panel.includes(want.status) && seen.panel.includes(want.contact), `status and contacts in the panel: ${seen.panel}`);
  check(seen.panel.includes(want.odt), `the planned land-use code's meaning: ${seen.panel}`);
  await page.waitForFunction(() => window.sppMap.querySourceFeatures("spp-sel").length > 0, null, { timeout: 20000 });
  seen.view = await page.evaluate(() => ({ zoom: window.sppMap.getZoom(), center: window.sppMap.getCenter().toArray() }));
  check(seen.view.zoom > 15, `the map zoomed to the project: ${JSON.stringify(seen.view)}`);
  await page.screenshot({ path: shot("lists-02-map-project") });

  // 3. a plan zone clicked on the map: its code with the meaning
  await page.goto(`${base}/#map=17/${want.zone[1]}/${want.zone[0]}&layers=land_use_plan_zones`);
  await page.reload(); // a new hash alone does not reload the map's layers
  await page.waitForFunction(() => window.spp && window.spp.ready && window.sppMap.loaded() &&
    window.sppMap.queryRenderedFeatures().some((f) => f.sourceLayer === "land_use_plan_zones"), null, { timeout: 60000 });
  const box = await page.locator("#map").boundingBox();
  const pt = await page.evaluate((ll) => window.sppMap.project(ll), want.zone);
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
  await page.waitForSelector("[data-testid=feature-title]", { timeout: 30000 });
  seen.zoneTitle = await page.locator("[data-testid=feature-title]").innerText();
  check(seen.zoneTitle.includes("ODT") && seen.zoneTitle.includes(want.odt), `plan zone title: ${seen.zoneTitle}`);
  await page.screenshot({ path: shot("lists-03-map-zone") });

  check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  check(external.length === 0, `requests outside the server: ${external.join(", ")}`);
  console.log(JSON.stringify({ ok: true, seen }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.message || e), seen, external }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
