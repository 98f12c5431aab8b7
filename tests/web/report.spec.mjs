// Browser test of the report form and the staff's moderation list:
//   node tests/web/report.spec.mjs http://127.0.0.1:PORT STAFF_API_KEY
// Drives Debian's /usr/bin/chromium with playwright-core against a real server with the sample
// set. A citizen reports a missing street light (desktop, then a phone): picks the place on the
// map, fills the form, attaches a photo; markup in the text is refused with a Vietnamese
// message; staff list the reports with their key and reject one. Prints one JSON line.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import zlib from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "services", "web", "package.json"));
const { chromium } = require("playwright-core");

const base = (process.argv[2] || "http://127.0.0.1:8000").replace(/\/$/, "");
const staffKey = process.argv[3] || "";
const artifacts = path.join(here, "..", "artifacts");
mkdirSync(artifacts, { recursive: true });
const shot = (name) => path.join(artifacts, `${name}.png`);
const seen = {};

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

// a small valid PNG (solid colour) made here: no file, no network
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([len, td, c]); };
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h); for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([230, 126, 34], y * (w * 3 + 1) + 1 + x * 3);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

async function ready(page) {
  await page.waitForFunction(() => window.spp && window.spp.ready && window.sppMap && window.sppMap.loaded(), null, { timeout: 60000 });
}

async function clickLngLat(page, lngLat) {
  const box = await page.locator("#map").boundingBox();
  const pt = await page.evaluate((ll) => window.sppMap.project(ll), lngLat);
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
}

async function report(page, target, { street, message, photo }) {
  await page.click("#btn-report");
  await page.waitForSelector("#report-form");
  const kinds = await page.locator("#rp-kind option").evaluateAll((os) => os.map((o) => o.value));
  check(kinds.includes("missing_light") && kinds.includes("address_correction"), `kinds from the layer files: ${kinds}`);
  await page.selectOption("#rp-kind", "missing_light");
  await page.waitForSelector('#report-form [name="f-street_name"]');
  // the place in the part of the map the form leaves free (a bottom sheet on phones)
  await page.evaluate((ll) => {
    const map = document.querySelector("#map").getBoundingClientRect();
    const panel = document.querySelector("#panel").getBoundingClientRect();
    const covered = panel.top > map.top + 50 && panel.left < map.left + 50 ? map.bottom - panel.top : 0;
    window.sppMap.jumpTo({ center: ll, padding: { bottom: Math.max(0, covered), top: 0, left: 0, right: 0 } });
  }, target);
  await clickLngLat(page, target);
  await page.waitForFunction(() => document.querySelector("#rp-place").classList.contains("picked"));
  await page.fill('[name="f-street_name"]', street);
  await page.fill('[name="message"]', message);
  if (photo) await page.setInputFiles('[name="photo"]', { name: "den.png", mimeType: "image/png", buffer: png(64, 48) });
  await page.locator("#rp-send").scrollIntoViewIfNeeded();
  await page.click("#rp-send");
  await page.waitForFunction(() => { const r = document.querySelector("#rp-result"); return r && (r.className === "ok" || r.className === "err") && !/…$/.test(r.textContent); }, null, { timeout: 20000 });
  return { cls: await page.locator("#rp-result").getAttribute("class"), text: await page.locator("#rp-result").innerText(),
    sent: await page.locator("#report-form").getAttribute("data-sent") };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run"],
});
const external = [];
const errors = [];
const watch = (page) => {
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("dialog", (d) => { errors.push(`dialog: ${d.message()}`); d.dismiss(); }); // an alert() would be script run from a report
  page.on("request", (r) => { const u = r.url(); if (!u.startsWith(base) && !u.startsWith("data:") && !u.startsWith("blob:")) external.push(u); });
};
try {
  const found = await (await fetch(base + "/api/search?q=" + encodeURIComponent("31135 2 49"))).json();
  const target = found.results[0].point;
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 820 } });
  const page = await ctx.newPage();
  watch(page);
  await page.goto(`${base}/#map=18/${target[1]}/${target[0]}`);
  await ready(page);

  // 1. markup in the text: refused, in Vietnamese, naming the field
  const bad = await report(page, target, { street: "Đường 3 Tháng 2", message: "<img src=x onerror=alert(1)>" });
  seen.refused = bad;
  check(bad.cls === "err" && /HTML/.test(bad.text) && bad.text.includes("không chấp nhận"), `markup refused in Vietnamese: ${bad.text}`);
  check(await page.locator('[data-field="message"].bad').count() === 1, "the message field is marked");

  // 2. the same report as plain text, with a photo: accepted
  await page.fill('[name="message"]', "Đèn không sáng > 3 đêm & đường tối < 50 m");
  await page.setInputFiles('[name="photo"]', { name: "den.png", mimeType: "image/png", buffer: png(64, 48) });
  await page.click("#rp-send");
  await page.waitForFunction(() => document.querySelector("#rp-result").className === "ok" && document.querySelector("#report-form").dataset.sent, null, { timeout: 20000 });
  seen.accepted = { text: await page.locator("#rp-result").innerText(), id: await page.locator("#report-form").getAttribute("data-sent") };
  check(seen.accepted.text.includes("Cảm ơn") && seen.accepted.text.includes(seen.accepted.id), `accepted: ${seen.accepted.text}`);
  await page.screenshot({ path: shot("10-report-form") });

  // 3. on a phone, in English: the form is a bottom sheet over the map
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const p2 = await phone.newPage();
  watch(p2);
  await p2.goto(`${base}/#map=18/${target[1]}/${target[0]}&lang=en`);
  await ready(p2);
  check((await p2.locator("#btn-report").innerText()) === "Report", "English button on the phone");
  const onPhone = await report(p2, [target[0] + 0.0002, target[1] + 0.0001], { street: "Mậu Thân", message: "Dark since Monday", photo: true });
  seen.phone = onPhone;
  check(onPhone.cls === "ok" && onPhone.text.startsWith("Thank you") && onPhone.sent, `phone report: ${onPhone.text}`);
  const sendBox = await p2.locator("#rp-send").boundingBox();
  check(sendBox && sendBox.width >= 40 && sendBox.y + sendBox.height <= 844, `send button reachable on the phone: ${JSON.stringify(sendBox)}`);
  await p2.screenshot({ path: shot("11-phone-report") });
  await phone.close();

  // 4. staff: the key kept in sessionStorage, the list, the report's text shown as text, reject
  await page.click("#rp-staff");
  await page.waitForSelector("#mod-key");
  await page.fill('#mod-key [name="key"]', staffKey);
  await page.click('#mod-key button[type="submit"]');
  const card = page.locator(`[data-submission="${seen.accepted.id}"]`);
  await card.waitFor({ timeout: 20000 });
  seen.stored = await page.evaluate(() => sessionStorage.getItem("spp.staffKey") !== null);
  check(seen.stored, "the key is kept in sessionStorage");
  const msg = card.locator(".message");
  seen.cardMessage = { text: await msg.innerText(), html: await msg.innerHTML() };
  check(seen.cardMessage.text === "Đèn không sáng > 3 đêm & đường tối < 50 m" && seen.cardMessage.html.includes("&gt;") && seen.cardMessage.html.includes("&amp;"),
    `message shown as text: ${JSON.stringify(seen.cardMessage)}`);
  await page.waitForFunction((id) => { const i = document.querySelector(`[data-submission="${id}"] img.photo`); return i && i.complete && i.naturalWidth > 0; }, seen.accepted.id, { timeout: 20000 });
  check(await page.locator("#btn-moderate").isVisible(), "the moderation button shows once a key is kept");
  await card.locator('[name="text"]').fill("Đã có kế hoạch thay đèn");
  await card.locator('button[data-act="reject"]').click();
  await page.waitForFunction((id) => document.querySelector(`[data-submission="${id}"]`).dataset.status === "rejected", seen.accepted.id, { timeout: 20000 });
  await page.screenshot({ path: shot("12-moderation") });

  check(errors.length === 0, `page errors: ${errors.join("; ")}`);
  check(external.length === 0, `requests outside the server: ${external.join(", ")}`);
  console.log(JSON.stringify({ ok: true, seen }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e && e.message || e), seen, external, errors }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
