// Browser test of the staff sign-in:
//   node tests/web/signin.spec.mjs BASE ISSUER API_KEY RESTRICTED_LAYER PARCEL_FID OWNER_NAME
// Drives Debian's /usr/bin/chromium with playwright-core. The public opens a parcel: no restricted
// layer in the tree, no owner name in the panel. A staff member signs in by OIDC (authorization
// code + PKCE at the test's provider), then signs out; another with an API key. Tile requests
// must carry the credential; no request may leave the server except to the provider.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "services", "web", "package.json"));
const { chromium } = require("playwright-core");

const [baseArg, issuer, apiKey, layer, fid, owner] = process.argv.slice(2);
const base = baseArg.replace(/\/$/, "");
const artifacts = path.join(here, "..", "artifacts");
mkdirSync(artifacts, { recursive: true });
const shot = (name) => path.join(artifacts, `${name}.png`);
const seen = {};
const external = [];
const errors = [];

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run"],
});

// a fresh context (no cache, no storage); tile requests recorded with their Authorization header
async function open() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const tiles = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", async (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith(issuer) && !u.startsWith("data:") && !u.startsWith("blob:")) external.push(u);
    if (u.startsWith(base) && /\/tiles\/.*\/\d+\/\d+\/\d+/.test(u)) tiles.push((await r.allHeaders()).authorization || "");
  });
  return { ctx, page, tiles };
}

async function ready(page) {
  await page.waitForFunction(() => window.spp && window.spp.ready && window.sppMap && window.sppMap.loaded(), null, { timeout: 60000 });
}

// what this user sees: the layers in the tree and the parcel's panel
async function look(page, tiles, name) {
  await ready(page);
  await page.waitForSelector('[data-testid="parcel-title"]', { timeout: 30000 });
  await page.waitForFunction(() => window.sppMap.areTilesLoaded(), null, { timeout: 30000 });
  const tree = await page.evaluate(() => [...document.querySelectorAll("#layer-tree [data-layer]")].map((e) => e.dataset.layer));
  const panel = await page.locator("#panel-body").innerText();
  const token = await page.evaluate(() => (JSON.parse(sessionStorage.getItem("spp.credential") || "null") || {}).token || "");
  await page.screenshot({ path: shot(name) });
  return { tree, panel, signedIn: await page.locator("#btn-signin").getAttribute("class"), token: token ? token.slice(0, 12) : "",
    tiles: tiles.length, tilesWithout: tiles.filter((h) => !token || h !== `Bearer ${token}`).length,
    localStorage: await page.evaluate(() => localStorage.length) };
}

// the selection's CSV export (a link: signin.js fetches it with the credential when there is one)
async function exportCsv(page) {
  const [dl] = await Promise.all([page.waitForEvent("download", { timeout: 30000 }), page.click('[data-testid="export-csv"]')]);
  return readFileSync(await dl.path(), "utf8");
}

try {
  const url = `${base}/#parcel=${fid}&layers=${encodeURIComponent(layer)},cadastral_parcels`;
  // 1. the public
  let { ctx, page, tiles } = await open();
  await page.goto(url);
  seen.public = await look(page, tiles, "20-signin-public");
  check(!seen.public.tree.includes(layer), `the public sees ${layer}`);
  check(!seen.public.panel.includes(owner), "the public sees the owner's name");
  check(tiles.length > 0 && tiles.every((h) => h === ""), "public tiles carry no credential");
  const publicCsv = await exportCsv(page);
  check(publicCsv.includes("49") && !publicCsv.includes(owner), `the public's export has no owner: ${publicCsv.slice(0, 300)}`);

  // a forged return from the issuer (a code this tab never asked for) signs nobody in
  await page.goto(`${base}/?code=forged&state=forged#parcel=${fid}`);
  await ready(page);
  seen.forged = { url: page.url(), signedIn: await page.locator("#btn-signin").getAttribute("class"),
    stored: await page.evaluate(() => sessionStorage.getItem("spp.credential")) };
  check(!seen.forged.url.includes("code=") && !seen.forged.signedIn && seen.forged.stored === null, `forged code refused: ${JSON.stringify(seen.forged)}`);

  // 2. staff by OIDC: the button, the provider (auto-approves), back to the same parcel
  await page.click("#btn-signin");
  await page.waitForSelector("#signin-oidc");
  tiles.length = 0;
  await Promise.all([page.waitForURL((u) => u.searchParams.has("code"), { timeout: 30000 }), page.click("#signin-oidc")]);
  seen.oidc = await look(page, tiles, "21-signin-oidc");
  check(seen.oidc.token.startsWith("eyJ"), `a JWT kept: ${seen.oidc.token}`);
  check(!page.url().includes("code="), `the code is gone from the address: ${page.url()}`);
  check(seen.oidc.tree.includes(layer), `staff sees ${layer}: ${seen.oidc.tree}`);
  check(seen.oidc.panel.includes(owner), "staff sees the owner's name");
  check(seen.oidc.tiles > 0 && seen.oidc.tilesWithout === 0, `tiles carry the token: ${seen.oidc.tilesWithout}/${seen.oidc.tiles}`);
  check(seen.oidc.localStorage === 0, "nothing in localStorage");

  // sign out: back to the public view
  await page.click("#btn-signin");
  await Promise.all([page.waitForEvent("load"), page.click("#signin-out")]);
  await ready(page);
  seen.signedOut = await page.evaluate(() => [...document.querySelectorAll("#layer-tree [data-layer]")].map((e) => e.dataset.layer));
  check(!seen.signedOut.includes(layer), "signed out: the restricted layer is gone");
  await ctx.close();

  // 3. staff with an API key (a phone)
  ({ ctx, page, tiles } = await open());
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(url);
  await ready(page);
  await page.click("#btn-signin");
  await page.fill('#signin-key [name="key"]', apiKey);
  tiles.length = 0;
  await Promise.all([page.waitForEvent("load"), page.click('#signin-key button[type="submit"]')]);
  seen.key = await look(page, tiles, "22-signin-key");
  check(seen.key.tree.includes(layer), `key holder sees ${layer}`);
  check(seen.key.panel.includes(owner), "key holder sees the owner's name");
  check(seen.key.tiles > 0 && seen.key.tilesWithout === 0, `tiles carry the key: ${seen.key.tilesWithout}/${seen.key.tiles}`);
  const staffCsv = await exportCsv(page);
  check(staffCsv.includes(owner), `the key holder's export has the owner: ${staffCsv.slice(0, 300)}`);
  await ctx.close();

  check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  check(external.length === 0, `requests outside the server: ${external.join(", ")}`);
  console.log(JSON.stringify({ ok: true, seen }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.message || e), seen, external, errors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
