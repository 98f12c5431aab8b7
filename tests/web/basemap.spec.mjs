// Browser test of the base-map switcher and the 3D view (services/web/basemap.js):
//   node tests/web/basemap.spec.mjs BASE OUTSIDE_BASE OUTSIDE_TILES_ROOT LAND_API_KEY STYLE_BASE
// BASE: `gis serve` without SPP_BASEMAP_URL; OUTSIDE_BASE: the same data with SPP_BASEMAP_URL
// set to the tile template of the test's own tile server (OUTSIDE_TILES_ROOT); STYLE_BASE: with
// SPP_BASEMAP_URL set to that server's MapLibre style; LAND_API_KEY: a land department key
// (may see the orthophoto). Drives Debian's chromium with playwright-core; screenshots go to
// tests/artifacts/. Prints one JSON line with what it saw; exits 1 on the first failed check.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "services", "web", "package.json"));
const { chromium } = require("playwright-core");

const [base, outsideBase, outsideTiles, landKey, styleBase] = process.argv.slice(2).map((a) => a.replace(/\/$/, ""));
const artifacts = path.join(here, "..", "artifacts");
mkdirSync(artifacts, { recursive: true });
const shot = (name) => path.join(artifacts, `basemap-${name}.png`);
const seen = {};
const VIEW = "#map=16.3/10.0328/105.7855"; // the river, the canal, the buildings
const BASE_LAYERS = ["water_surfaces", "waterways", "buildings", "roads", "place_names"];

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
const requests = []; // every request of every page: none may leave the server uninvited
const errors = [];

async function open(root, options = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => requests.push({ page: root, url: r.url() }));
  await page.goto(`${root}/${VIEW}`);
  await page.waitForFunction(() => window.spp && window.spp.ready && window.sppBasemap && window.sppMap.loaded(), null, { timeout: 60000 });
  return page;
}

// features of these layers drawn on screen now (queryRenderedFeatures on their style layers)
async function rendered(page, ids) {
  await page.waitForFunction(() => window.sppMap.loaded() && window.sppMap.areTilesLoaded(), null, { timeout: 30000 });
  await page.waitForTimeout(300);
  return page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
    const layers = (window.spp.styleLayers[id] || []).map((l) => l.id).filter((l) => window.sppMap.getLayer(l));
    return [id, layers.length ? window.sppMap.queryRenderedFeatures({ layers }).length : 0];
  })), ids);
}

async function choose(page, option) {
  await page.click("[data-testid=basemap-button]");
  await page.locator(`[data-testid="basemap-${option}"]`).check();
  await page.waitForFunction((o) => window.sppBasemap.chosen() === o, option);
}

try {
  // 1. public, no outside base map: the city base is on, hydrography and buildings drawn
  const page = await open(base);
  seen.publicOptions = await page.evaluate(() => window.sppBasemap.options());
  check(JSON.stringify(seen.publicOptions) === JSON.stringify(["city", "none"]),
    `public options: city and none only (no orthophoto, no outside) ${seen.publicOptions}`);
  check(await page.evaluate(() => window.sppBasemap.chosen()) === "city", "the city base is on at start");
  seen.start3d = await page.evaluate(() => window.sppMap.getStyle().layers.filter((l) => l.type === "fill-extrusion")
    .map((l) => window.sppMap.getLayoutProperty(l.id, "visibility")));
  check(seen.start3d.length === 2 && seen.start3d.every((v) => v === "none") && (await page.evaluate(() => window.sppMap.getPitch())) === 0,
    `the map opens flat, extrusions hidden: ${seen.start3d}`);
  seen.city = await rendered(page, BASE_LAYERS);
  for (const id of ["water_surfaces", "waterways", "buildings"]) check(seen.city[id] > 0, `${id} rendered: ${JSON.stringify(seen.city)}`);
  seen.cityRiver = await page.evaluate(() => window.sppMap.queryRenderedFeatures({ layers: window.spp.styleLayers.waterways.map((l) => l.id) })
    .map((f) => f.properties.name).sort());
  check(seen.cityRiver.includes("Sông Cần Thơ"), `the river is drawn: ${seen.cityRiver}`);
  await page.click("[data-testid=basemap-button]");
  check(await page.locator("[data-testid=basemap-none]").isVisible(), "the switcher opens");
  await page.screenshot({ path: shot("01-city") });
  await page.click("[data-testid=basemap-button]");

  // 2. none: the base layers leave the map, the tree and the hash
  await choose(page, "none");
  seen.none = await rendered(page, BASE_LAYERS);
  check(Object.values(seen.none).every((n) => n === 0), `no base layer drawn: ${JSON.stringify(seen.none)}`);
  seen.noneTree = await page.evaluate((ids) => ids.filter((id) => document.querySelector(`#layer-tree input[data-toggle="${id}"]`).checked), BASE_LAYERS);
  check(seen.noneTree.length === 0, `tree unchecked: ${seen.noneTree}`);
  seen.noneHash = await page.evaluate(() => location.hash);
  check(!/waterways|buildings/.test(seen.noneHash), `hash without the base layers: ${seen.noneHash}`);
  await page.screenshot({ path: shot("02-none") });

  // 3. back to the city base; 3D extrudes buildings and (once shown) plan zones, tilted
  await choose(page, "city");
  seen.cityAgain = await rendered(page, ["waterways", "buildings"]);
  check(seen.cityAgain.waterways > 0 && seen.cityAgain.buildings > 0, `city base again: ${JSON.stringify(seen.cityAgain)}`);
  const zones = page.locator('#layer-tree input[data-toggle="construction_plan_zones"]');
  await zones.check();
  await page.click("[data-testid=view3d-button]");
  await page.waitForFunction(() => window.sppMap.getPitch() > 40 && !window.sppMap.isMoving(), null, { timeout: 10000 });
  seen.threeD = await page.evaluate(() => {
    const m = window.sppMap;
    const ext = m.getStyle().layers.filter((l) => l.type === "fill-extrusion");
    return { pitch: m.getPitch(), layers: ext.map((l) => [l.id, l["source-layer"], m.getLayoutProperty(l.id, "visibility")]) };
  });
  const ext = Object.fromEntries(seen.threeD.layers.map(([id, src, vis]) => [src, { id, vis }]));
  check(ext.buildings && ext.buildings.vis === "visible", `buildings extruded: ${JSON.stringify(seen.threeD)}`);
  check(ext.construction_plan_zones && ext.construction_plan_zones.vis === "visible", "plan zones extruded");
  await page.waitForFunction(() => window.sppMap.loaded() && window.sppMap.areTilesLoaded(), null, { timeout: 30000 });
  seen.extruded = await page.evaluate((ids) => Object.fromEntries(ids.map((id) => [id, window.sppMap.queryRenderedFeatures({ layers: [id] })
    .map((f) => f.properties.height ?? f.properties.height_limit ?? null)])), [ext.buildings.id, ext.construction_plan_zones.id]);
  check(seen.extruded[ext.buildings.id].length > 0 && seen.extruded[ext.construction_plan_zones.id].length > 0,
    `extrusions rendered: ${JSON.stringify(seen.extruded)}`);
  await page.locator("[data-testid=basemap-button]").click();
  await page.locator("[data-testid=pitch]").fill("30");
  seen.pitchSlider = await page.evaluate(() => window.sppMap.getPitch());
  check(Math.abs(seen.pitchSlider - 30) < 0.5, `the pitch slider tilts the map (${seen.pitchSlider})`);
  await page.locator("[data-testid=pitch]").fill("60");
  await page.screenshot({ path: shot("03-3d") });
  await page.click("#btn-lang"); // the control speaks the map's language
  await page.waitForFunction(() => document.querySelector("[data-testid=basemap-button]").title === "Base map");
  seen.english = await page.locator(".spp-basemap-menu").innerText();
  check(seen.english.includes("City base map") && seen.english.includes("Tilt"), `English switcher: ${seen.english}`);
  await page.click("#btn-lang");
  await page.waitForFunction(() => document.querySelector("[data-testid=basemap-button]").title === "Bản đồ nền");
  // a layer switched off in the tree takes its extrusion with it
  await zones.uncheck();
  check(await page.evaluate((id) => window.sppMap.getLayoutProperty(id, "visibility"), ext.construction_plan_zones.id) === "none", "zone extrusion follows the tree");
  await page.click("[data-testid=view3d-button]");
  await page.waitForFunction(() => window.sppMap.getPitch() === 0 && !window.sppMap.isMoving(), null, { timeout: 10000 });
  check(await page.evaluate((id) => window.sppMap.getLayoutProperty(id, "visibility"), ext.buildings.id) === "none", "2D again: no extrusion");

  // 4. staff of the land department: the orthophoto is a backdrop; choosing it loads its tiles
  const staff = await open(base, { extraHTTPHeaders: { "X-API-Key": landKey } });
  seen.staffOptions = await staff.evaluate(() => window.sppBasemap.options());
  check(seen.staffOptions.includes("raster:orthophoto"), `orthophoto offered to staff: ${seen.staffOptions}`);
  const orthoTiles = [];
  staff.on("response", (r) => { if (r.url().includes("/collections/orthophoto/map/tiles/")) orthoTiles.push(r.status()); });
  await choose(staff, "raster:orthophoto");
  await staff.waitForFunction(() => window.sppMap.loaded() && window.sppMap.areTilesLoaded(), null, { timeout: 30000 });
  seen.ortho = { tiles: orthoTiles, base: await rendered(staff, ["waterways", "buildings"]) };
  check(orthoTiles.includes(200), `orthophoto tiles loaded: ${orthoTiles}`);
  check(seen.ortho.base.waterways === 0 && seen.ortho.base.buildings === 0, "the city base is off over the orthophoto");
  await staff.screenshot({ path: shot("04-orthophoto") });
  await staff.context().close();

  // 5. SPP_BASEMAP_URL set: an "outside" option, nothing fetched from it until it is chosen
  const out = await open(outsideBase);
  seen.outsideOptions = await out.evaluate(() => window.sppBasemap.options());
  check(seen.outsideOptions.includes("outside"), `outside option: ${seen.outsideOptions}`);
  await out.waitForTimeout(500);
  check(!requests.some((r) => r.url.startsWith(outsideTiles)), "no outside request before the outside map is chosen");
  await choose(out, "outside");
  await out.waitForFunction(() => window.sppMap.loaded() && window.sppMap.areTilesLoaded(), null, { timeout: 30000 });
  seen.outsideRequests = requests.filter((r) => r.url.startsWith(outsideTiles)).map((r) => r.url.slice(outsideTiles.length));
  check(seen.outsideRequests.length > 0 && seen.outsideRequests.every((u) => /^\/tiles\/\d+\/\d+\/\d+\.png$/.test(u)),
    `outside tiles requested: ${seen.outsideRequests}`);
  seen.outsideOrder = await out.evaluate(() => window.sppMap.getStyle().layers.slice(0, 2).map((l) => l.id));
  check(seen.outsideOrder[1] === "spp-outside", `outside map right above the background: ${seen.outsideOrder}`);
  seen.outsideBase = await rendered(out, ["waterways", "buildings"]);
  check(seen.outsideBase.waterways === 0, "the city base is off over the outside map");
  await out.screenshot({ path: shot("05-outside") });
  await choose(out, "city");
  check(await out.evaluate(() => !window.sppMap.getLayer("spp-outside") && !window.sppMap.getSource("spp-outside")), "the outside map is removed");

  // 5b. SPP_BASEMAP_URL naming a MapLibre style: its sources and drawing go under ours (not
  //     its labels, which need its own glyphs)
  const st = await open(styleBase);
  await choose(st, "outside");
  await st.waitForFunction(() => window.sppMap.getLayer("spp-outside-land") && window.sppMap.loaded() && window.sppMap.areTilesLoaded(), null, { timeout: 30000 });
  seen.outsideStyle = await st.evaluate(() => ({ layers: window.sppMap.getStyle().layers.filter((l) => l.id.startsWith("spp-outside")).map((l) => l.id),
    second: window.sppMap.getStyle().layers[1].id }));
  check(seen.outsideStyle.second === "spp-outside-paper", `outside style under ours: ${JSON.stringify(seen.outsideStyle)}`);
  await st.context().close();

  // 6. on a phone: the buttons are finger-sized and the menu stays on screen
  const phone = await open(base, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.tap("[data-testid=basemap-button]");
  seen.phone = await phone.evaluate(() => {
    const r = (s) => document.querySelector(s).getBoundingClientRect().toJSON();
    return { button: r("[data-testid=basemap-button]"), b3d: r("[data-testid=view3d-button]"),
      menu: r(".spp-basemap-menu"), width: innerWidth };
  });
  check(seen.phone.button.width >= 40 && seen.phone.b3d.height >= 40, `finger-sized buttons: ${JSON.stringify(seen.phone)}`);
  check(seen.phone.menu.left >= 0 && seen.phone.menu.right <= seen.phone.width, `menu on screen: ${JSON.stringify(seen.phone.menu)}`);
  await phone.locator("[data-testid=basemap-none]").tap();
  await phone.waitForFunction(() => window.sppBasemap.chosen() === "none");
  await phone.tap("[data-testid=basemap-button]");
  await phone.locator("[data-testid=basemap-city]").tap();
  await phone.waitForFunction(() => window.sppBasemap.chosen() === "city");
  await phone.tap("[data-testid=view3d-button]");
  await phone.waitForFunction(() => window.sppBasemap.is3d() && window.sppMap.getPitch() > 40 && !window.sppMap.isMoving(), null, { timeout: 10000 });
  await phone.screenshot({ path: shot("06-phone") });

  check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  const leaving = requests.filter((r) => ![base, outsideBase, styleBase].some((b) => r.url.startsWith(b + "/"))
    && !r.url.startsWith("data:") && !r.url.startsWith("blob:")
    && !([outsideBase, styleBase].includes(r.page) && /^\/(tiles\/|style\.json$)/.test(r.url.slice(outsideTiles.length)) && r.url.startsWith(outsideTiles)));
  check(leaving.length === 0, `requests outside the server: ${leaving.map((r) => r.url).join(", ")}`);
  console.log(JSON.stringify({ ok: true, seen }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.message || e), seen, errors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
