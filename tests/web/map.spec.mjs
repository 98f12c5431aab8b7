// Browser test of the web map: node tests/web/map.spec.mjs http://127.0.0.1:PORT
// Drives Debian's /usr/bin/chromium with playwright-core (services/web devDependency) against a
// real server with the sample data loaded. Screenshots go to tests/artifacts/. Prints one JSON
// line with what it saw; exits 1 on the first failed check.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "services", "web", "package.json"));
const { chromium } = require("playwright-core");

const base = (process.argv[2] || "http://127.0.0.1:8000").replace(/\/$/, "");
const artifacts = path.join(here, "..", "artifacts");
mkdirSync(artifacts, { recursive: true });
const shot = (name) => path.join(artifacts, `${name}.png`);
const seen = {};

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

async function api(p) {
  const r = await fetch(base + p);
  check(r.ok, `${p} -> ${r.status}`);
  return r.json();
}

async function waitForParcels(page) {
  await page.waitForFunction(() => {
    const s = window.spp;
    if (!s || !s.ready || !window.sppMap.loaded()) return false;
    const ids = (s.styleLayers.cadastral_parcels || []).map((l) => l.id);
    return ids.length > 0 && window.sppMap.queryRenderedFeatures({ layers: ids }).length > 0;
  }, null, { timeout: 60000 });
}

async function clickLngLat(page, lngLat) {
  const box = await page.locator("#map").boundingBox();
  const pt = await page.evaluate((ll) => window.sppMap.project(ll), lngLat);
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run"],
});
const external = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 820 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) external.push(r.url()); });

  // 1. the page, parcels rendered from our own vector tiles
  const target = (await api("/api/search?q=" + encodeURIComponent("31135 2 49"))).results[0];
  check(target && target.kind === "parcel", "sample parcel 31135/2/49 found by the API");
  await page.goto(`${base}/#map=17.5/${target.point[1]}/${target.point[0]}`);
  await waitForParcels(page);
  seen.rendered = await page.evaluate(() => {
    const ids = window.spp.styleLayers.cadastral_parcels.map((l) => l.id);
    const f = window.sppMap.queryRenderedFeatures({ layers: ids });
    return { parcels: f.length, styleSource: window.spp.styleSource,
      layersInTree: [...document.querySelectorAll("#layer-tree [data-layer]")].map((e) => e.dataset.layer) };
  });
  check(seen.rendered.parcels > 10, `parcels rendered (${seen.rendered.parcels})`);
  check(!seen.rendered.layersInTree.includes("water_pipes"), "restricted water_pipes not in the public layer tree");
  check(seen.rendered.layersInTree.includes("cadastral_parcels"), "parcels in the layer tree");
  await page.screenshot({ path: shot("01-map-parcels") });

  // 2. click the parcel: side panel with Vietnamese labels and planning information
  await clickLngLat(page, target.point);
  await page.waitForSelector("[data-section]", { timeout: 20000 });
  const panel = await page.locator("#panel").innerText();
  seen.panelTitle = await page.locator("[data-testid=parcel-title]").innerText();
  check(seen.panelTitle.includes("Thửa 49") && seen.panelTitle.includes("tờ 2"), `panel title: ${seen.panelTitle}`);
  check(panel.includes("Số hiệu tờ bản đồ") && panel.includes("Mã loại đất"), "Vietnamese attribute labels");
  check(panel.includes("Quy hoạch sử dụng đất") && panel.includes("Tỷ lệ"), "planning section with shares");
  check(!/Nguyễn|Trần|Lê Văn|owner_name|owner_id_no|Tên chủ sử dụng/.test(panel), "no personal data in the panel");
  seen.hashAfterClick = await page.evaluate(() => location.hash);
  check(seen.hashAfterClick.includes(`parcel=${target.fid}`) && seen.hashAfterClick.includes("layers="), "hash keeps parcel and layers");
  const printHref = await page.locator("[data-testid=print-link]").getAttribute("href");
  check(printHref.includes(`/api/parcels/${target.fid}/planning?f=html`), "link to the printable page");
  // the sample flood grids cover Ninh Kiều: the panel has a flood-depth line per flood raster
  seen.floodLinesVi = await page.locator("[data-testid=flood-line]").allInnerTexts();
  check(seen.floodLinesVi.some((l) => /^Độ sâu ngập lũ chu kỳ 100 năm: .+ trên \d+ % diện tích/.test(l)),
    `Vietnamese flood line in the panel: ${seen.floodLinesVi.join(" | ")}`);
  await page.screenshot({ path: shot("02-parcel-panel") });

  // 3. search by ward + sheet + parcel
  await page.fill("#q", "Ninh Kiều tờ 2 thửa 48");
  await page.press("#q", "Enter");
  await page.waitForFunction(() => (document.querySelector("[data-testid=parcel-title]") || {}).textContent?.includes("Thửa 48"), null, { timeout: 20000 });
  await page.waitForSelector("[data-section]");
  seen.sheetSearch = await page.locator("[data-testid=parcel-title]").innerText();
  await page.screenshot({ path: shot("03-search-sheet-parcel") });

  // 4. search an address typed without diacritics
  await page.fill("#q", "so 42 ly thuong kiet");
  await page.press("#q", "Enter");
  await page.waitForSelector("#results li[data-kind=address]", { timeout: 20000 });
  seen.addressResult = await page.locator("#results li[data-kind=address]").first().innerText();
  check(seen.addressResult.includes("Lý Thường Kiệt"), `address result: ${seen.addressResult}`);
  await page.screenshot({ path: shot("04-search-address-results") });
  await page.locator("#results li[data-kind=address]").first().click();
  await page.waitForFunction(() => document.querySelector("#results").hidden, null, { timeout: 5000 });
  await page.waitForTimeout(900);
  await page.screenshot({ path: shot("05-address-located") });

  // 4b. a place by its name, without diacritics: listed first as a place, shown with its
  // surroundings (zoom 16), not as close as an address
  const viewBefore = await page.evaluate(() => ({ center: window.sppMap.getCenter().toArray(), zoom: window.sppMap.getZoom() }));
  await page.fill("#q", "cho noi cai rang"); // typing lists the hits (Enter would go to a single one)
  await page.waitForSelector("#results li[data-kind=place]", { timeout: 20000 });
  seen.placeResult = await page.locator("#results li").first().innerText();
  check((await page.locator("#results li").first().getAttribute("data-kind")) === "place", "a place is listed first");
  check(seen.placeResult.includes("Chợ nổi Cái Răng") && seen.placeResult.toLowerCase().includes("địa danh"), `place result: ${seen.placeResult}`);
  await page.locator("#results li[data-kind=place]").first().click();
  await page.waitForFunction(() => document.querySelector("#results").hidden, null, { timeout: 5000 });
  await page.waitForFunction(() => !window.sppMap.isMoving(), null, { timeout: 10000 });
  seen.placeView = await page.evaluate(() => ({ zoom: window.sppMap.getZoom(), center: window.sppMap.getCenter().toArray() }));
  check(Math.abs(seen.placeView.zoom - 16) < 0.01, `place shown at zoom 16: ${seen.placeView.zoom}`);
  check(Math.abs(seen.placeView.center[0] - 105.7497) < 0.001 && Math.abs(seen.placeView.center[1] - 9.9878) < 0.001,
    `centred on the floating market: ${seen.placeView.center}`);
  await page.evaluate((v) => window.sppMap.jumpTo(v), viewBefore); // back to the parcels for what follows
  await page.waitForFunction(() => window.sppMap.loaded() && !window.sppMap.isMoving(), null, { timeout: 20000 });

  // 5. English
  await page.click("#btn-lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  await page.waitForSelector("[data-section]");
  const en = await page.locator("#panel").innerText();
  check(en.includes("Planning information") && en.includes("Map sheet number"), "English labels in the panel");
  check((await page.locator("#layer-tree").innerText()).includes("Cadastral parcels"), "English layer tree");
  seen.hashLang = await page.evaluate(() => location.hash);
  check(seen.hashLang.includes("lang=en"), "hash keeps the language");
  await page.screenshot({ path: shot("06-english") });

  // 6. measure a distance by clicking: compare with the haversine of the two points
  await page.click("#btn-measure-line");
  const c = await page.evaluate(() => window.sppMap.getCenter().toArray());
  const a = [c[0] - 0.0005, c[1]];
  const b = [c[0] + 0.0005, c[1]];
  const expected = await page.evaluate(([p, q]) => window.sppGeodesy.haversine(p, q), [a, b]);
  check(Math.abs(expected - 109.6) < 1.0, `haversine of 0.001° of longitude at 10°N is ≈ 109.6 m (${expected})`);
  await clickLngLat(page, a);
  await clickLngLat(page, b);
  seen.measure = await page.locator("#measure-text").innerText();
  const measured = Number((seen.measure.match(/Length: ([\d.,]+) m/) || [])[1]?.replace(/,/g, ""));
  check(Math.abs(measured - expected) < 1.5, `measured ${seen.measure}, expected ${expected.toFixed(1)} m`);
  await page.screenshot({ path: shot("07-measure") });
  await page.click("#measure-clear");

  // 7. a shared link opens the same view, parcel and layers (phone width)
  const shared = await page.evaluate(() => location.href);
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const p2 = await phone.newPage();
  await p2.goto(shared);
  await waitForParcels(p2);
  await p2.waitForSelector("[data-section]", { timeout: 20000 });
  seen.phoneTitle = await p2.locator("[data-testid=parcel-title]").innerText();
  check(seen.phoneTitle.startsWith("Parcel"), `shared link opens the parcel in English: ${seen.phoneTitle}`);
  await p2.screenshot({ path: shot("08-phone-shared-link") });
  await phone.close();

  // 8. raster layers from /api/rasters: in the layer tree (environment), off by default; on,
  //    their map tiles load below the vector layers; opacity; legend; English flood lines
  const rasterTiles = [];
  page.on("response", (r) => {
    if (r.url().includes("/map/tiles/")) rasterTiles.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] || "" });
  });
  const rasters = (await api("/api/rasters")).rasters.map((r) => r.id);
  check(rasters.includes("flood_depth_100y"), `flood_depth_100y in /api/rasters (${rasters})`);
  const rasterRow = page.locator('#layer-tree [data-domain=environment] [data-layer="flood_depth_100y"]');
  check(await rasterRow.count() === 1, "flood raster in the Environment group of the layer tree");
  seen.rasterTree = (await rasterRow.innerText()).trim();
  check(seen.rasterTree.includes("Flood depth, 100-year return period"), `raster title in English: ${seen.rasterTree}`);
  check(rasterTiles.length === 0, `no raster tile before the layer is switched on (${rasterTiles.length})`);
  await page.evaluate(([fid, pt]) => { window.spp.selectParcel(fid); window.sppMap.jumpTo({ center: [pt[0] - 0.004, pt[1] - 0.012], zoom: 14 }); }, [target.fid, target.point]);
  await page.waitForFunction(() => (document.querySelector("[data-testid=parcel-title]") || {}).textContent?.includes("Parcel 49"), null, { timeout: 20000 });
  await rasterRow.locator("input[type=checkbox]").check();
  await page.waitForFunction(() => window.sppMap.getLayoutProperty("spp-raster-flood_depth_100y", "visibility") === "visible"
    && window.sppMap.isSourceLoaded("spp-raster-flood_depth_100y") && window.sppMap.loaded(), null, { timeout: 30000 });
  const t0 = Date.now();
  while (!rasterTiles.some((r) => r.status === 200 && r.type.startsWith("image/png")) && Date.now() - t0 < 20000) await page.waitForTimeout(200);
  seen.rasterTiles = { total: rasterTiles.length, png: rasterTiles.filter((r) => r.status === 200 && r.type.startsWith("image/png")).length,
    first: rasterTiles[0] && rasterTiles[0].url };
  check(seen.rasterTiles.png >= 1, `raster tiles loaded: ${JSON.stringify(seen.rasterTiles)}`);
  check(rasterTiles.every((r) => r.url.startsWith(base + "/ogc/collections/flood_depth_100y/map/tiles/WebMercatorQuad/")), "raster tiles from our server only");
  seen.rasterStyle = await page.evaluate(() => {
    const layers = window.sppMap.getStyle().layers;
    const i = layers.findIndex((l) => l.id === "spp-raster-flood_depth_100y");
    const firstVector = layers.findIndex((l) => l.type !== "background" && l.type !== "raster");
    const src = window.sppMap.getStyle().sources["spp-raster-flood_depth_100y"];
    return { index: i, firstVector, tileSize: src.tileSize, minzoom: src.minzoom, maxzoom: src.maxzoom, bounds: src.bounds,
      opacity: window.sppMap.getPaintProperty("spp-raster-flood_depth_100y", "raster-opacity"), hash: location.hash };
  });
  check(seen.rasterStyle.index >= 0 && seen.rasterStyle.index < seen.rasterStyle.firstVector, `raster below the vector layers: ${JSON.stringify(seen.rasterStyle)}`);
  check(seen.rasterStyle.tileSize === 256 && seen.rasterStyle.minzoom === 8 && seen.rasterStyle.maxzoom === 19 && seen.rasterStyle.bounds.length === 4, "raster source from /api/rasters");
  check(Math.abs(seen.rasterStyle.opacity - 0.7) < 1e-9, `raster opacity from /api/rasters (${seen.rasterStyle.opacity})`);
  check(seen.rasterStyle.hash.includes("flood_depth_100y"), "hash keeps the raster layer");
  await rasterRow.locator("input.opacity").fill("0.5");
  seen.rasterOpacity = await page.evaluate(() => window.sppMap.getPaintProperty("spp-raster-flood_depth_100y", "raster-opacity"));
  check(Math.abs(seen.rasterOpacity - 0.35) < 1e-9, `opacity slider scales the raster (${seen.rasterOpacity})`);
  await rasterRow.locator("input.opacity").fill("1");
  await rasterRow.locator("details summary").click();
  seen.rasterLegend = (await rasterRow.locator("details").innerText()).replace(/\s+/g, " ");
  check(seen.rasterLegend.includes("Above 1.0 m") && seen.rasterLegend.includes("Units: m"), `raster legend: ${seen.rasterLegend}`);
  seen.floodLinesEn = await page.locator("[data-testid=flood-line]").allInnerTexts();
  check(seen.floodLinesEn.some((l) => /^Flood depth, 100-year return period: .+ on \d+ % of the area/.test(l)),
    `English flood line in the panel: ${seen.floodLinesEn.join(" | ")}`);
  await page.locator("[data-section=flood_depth]").scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  await page.screenshot({ path: shot("09-flood-raster") });

  check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  check(external.length === 0, `requests outside the server: ${external.join(", ")}`);
  console.log(JSON.stringify({ ok: true, seen }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.message || e), seen, external }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
