// The web map's layer tree from the API, without a browser: node tests/web/tree.mjs http://127.0.0.1:PORT
// Runs services/web/app.js (the real file) with a stub page that has no MapLibre, reads
// /ogc/collections and /api/rasters as app.js does, and prints one JSON line with the tree's
// groups ({domain: [layer ids]}) and the layers drawn when the map opens.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const here = path.dirname(fileURLToPath(import.meta.url));
const base = (process.argv[2] || "http://127.0.0.1:8000").replace(/\/$/, "");
const stubElement = { insertAdjacentHTML() {} };
const window = {};
const context = vm.createContext({
  window, console, URLSearchParams, fetch,
  location: { hash: "", origin: base },
  document: { querySelector: () => null, querySelectorAll: () => [], body: stubElement },
});
vm.runInContext(readFileSync(path.join(here, "..", "..", "services", "web", "app.js"), "utf8"), context);
const spp = window.spp;
const get = async (p) => (await fetch(base + p, { headers: { Accept: "application/json" } })).json();
const collections = (await get("/ogc/collections")).collections;
const rasters = (await get("/api/rasters")).rasters;
const groups = Object.fromEntries(Object.entries(spp.treeGroups(collections, rasters))
  .map(([d, layers]) => [d, layers.map((c) => c.id)]));
console.log(JSON.stringify({ groups, visible: spp.defaultVisible([...collections, ...rasters]) }));
