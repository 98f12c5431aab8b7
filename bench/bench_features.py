"""OGC API - Features benchmark: our server against TiPg, pygeoapi and plain PostgreSQL
(pgbench) on the same 300 000-parcel table, in one run.

    .venv/bin/python bench/bench_features.py [--seconds 20] [--concurrency 16] [--runs 2]
    SPP_DATA_DIR=/tmp/bench-features-4m .venv/bin/python bench/bench_features.py \
        --parcels 4000000 --only ours,pgbench

Data: the sample Ninh Kiều parcel Shapefile loaded with `gis load` into an embedded cluster of
its own (SPP_DATA_DIR, default /tmp/bench-features; written and loaded on the first run); with
--parcels above 300 000 a grid of simple parcels (bench_loader_memory.py's file).
Servers, one at a time, each one uvicorn worker on 127.0.0.1:
- ours: `python -m gis serve` (rate limit off: SPP_RATE_IP_PER_S=0, the others have none);
- ours-fid: the same server with the version's curve pad hidden, so it pages bboxes by feature
  id as before the curve keys (one-client density cases only);
- TiPg from its own venv (--tipg-venv, `pip install tipg`), `uvicorn tipg.main:app`, on the
  `data` schema (collection `data.cadastral_parcels`, id column fid; pool DB_MIN_CONN_SIZE=1,
  DB_MAX_CONN_SIZE=10, its defaults, by the names it reads);
- pygeoapi from its own venv (--pygeoapi-venv, `pip install pygeoapi psycopg2-binary
  geoalchemy2 starlette uvicorn`),
  PostgreSQL provider on data.cadastral_parcels (id_field fid, geom), `uvicorn
  pygeoapi.starlette_app:APP`;
and `pgbench -M prepared` running our own page statement (services.ogc.items._page_statement:
100 features along the curve under the bbox, the same GeoJSON text) with each bbox's values and
the same session settings as our page connections.

Load: `wrk` (one thread, --concurrency connections, no Accept-Encoding so no gzip anywhere)
with a Lua script cycling through the same fixed list of ~300x300 m bboxes (centred on parcels
spread over the table) for --seconds (so at most that long, and as many requests as the server
answers in that time); --warmup seconds of the same load first. pgbench: -T --seconds, each
run right after one of ours (pairs back to back: the machine's speed drifts between minutes;
the verdict on the 0.6 bar is the median pair's ratio).
Every server is asked for the same 14 public properties (TiPg:
`properties=`, pygeoapi: the provider's `properties`); the features of 5 bboxes are compared
first (as sets: ours pages along the curve, the others by id). TiPg also counts the matches
(numberMatched: a count(*) of the same WHERE) on every request; ours does not under a bbox.
Deep paging: page 1 and page 500 (limit=100, no filter), median of --page-repeats requests each;
ours follows the `next` links to page 500, TiPg and pygeoapi jump with offset=49900.
Density: one client (wrk -c1) over 'city' (the table's extent), 'district' (0.05°) and 'block'
(0.02°) boxes centred on the densest cells, p50 per server and for pgbench; page 1 and a deep
page of a block box.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SPP_DATA_DIR", "/tmp/bench-features")
for _v in ("DATABASE_URL", "SPP_DATABASE_URL", "SPP_WEB_DATABASE_URL"):
    os.environ.pop(_v, None)  # always the benchmark's own embedded cluster

import httpx  # noqa: E402

from gis import db  # noqa: E402
from gis.settings import get_settings  # noqa: E402

LAYER = "cadastral_parcels"
PROPS = ["commune_code", "sheet_no", "parcel_no", "legal_area", "land_use_code", "address",
         "ward_name", "old_sheet_no", "old_parcel_no", "valid_from", "valid_to",
         "land_use_code_codelist", "area_plane_m2", "area_geodesic_m2"]
HALF_M = 150.0  # half side of a bbox, metres
LIMIT = 100
DEEP_PAGE = 500

LUA = r"""
local paths, n = {}, 0
init = function(args)
  for line in io.lines(args[1]) do n = n + 1; paths[n] = line end
end
local i = 0
request = function()
  i = i % n + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT {\"requests\": %d, \"duration_us\": %d, \"status_errors\": %d, " ..
    "\"socket_errors\": %d, \"p50_us\": %d, \"p95_us\": %d, \"p99_us\": %d}\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99)))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_data(parcels: int = 300_000) -> str:
    """The loaded table (loaded here on the first run, or again when it holds another number
    of parcels or was loaded before the curve keys and their sample); returns the database URL."""
    url = db.database_url()
    db.migrate()
    with db.connect() as conn:
        row = conn.execute("SELECT to_regclass('data.cadastral_parcels') IS NOT NULL AS ok"
                           ).fetchone()
        n = conn.execute("SELECT count(*) AS n FROM data.cadastral_parcels").fetchone()["n"] \
            if row["ok"] else 0
        keyed = row["ok"] and conn.execute(
            "SELECT count(*) > 0 AS k FROM pg_attribute WHERE attrelid = "
            "'data.cadastral_parcels'::regclass AND attname = '_sfc'").fetchone()["k"]
        keyed = keyed and conn.execute(  # and the key sample the server chooses plans by
            "SELECT v.sfc_every IS NOT NULL AS s FROM spp.layers l JOIN spp.layer_versions v "
            "ON v.layer_id = l.id AND v.version = l.current_version WHERE l.id = %s",
            (LAYER,)).fetchone()["s"]
    if not keyed or abs(n - parcels) > parcels // 5:
        from gis.demo import ensure_sample

        print(f"sample of {parcels:,} parcels (written on the first run) ...", flush=True)
        if parcels <= 300_000:  # the sample's city holds about that many
            sample = ensure_sample(get_settings().data_dir / f"sample-{parcels}", parcels)
            shp = sample / "thua_dat_ninhkieu" / "thua_dat.shp"
        else:  # a grid of simple parcels (bench_loader_memory.py's file), ~7 500 per 0.02°
            from bench.bench_loader_memory import write_big

            shp = get_settings().data_dir / f"bench-big-{parcels}" / "big.shp"
            if not shp.exists():
                shp.parent.mkdir(parents=True, exist_ok=True)
                write_big(shp, parcels)
        print("loading with gis load ...", flush=True)
        subprocess.run([sys.executable, "-m", "gis", "load", str(shp), "--layer", LAYER,
                        "--force"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return url


def make_bboxes(count: int) -> list[tuple[float, float, float, float]]:
    """~300x300 m boxes centred on parcels spread evenly over the table (fid order)."""
    with db.connect() as conn:
        total = conn.execute("SELECT count(*) AS n FROM data.cadastral_parcels").fetchone()["n"]
        step = max(1, total // count)
        rows = conn.execute(
            "SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT ST_PointOnSurface(geom) AS c, "
            "row_number() OVER (ORDER BY fid) AS r FROM data.cadastral_parcels) t "
            "WHERE r %% %s = 1 ORDER BY r LIMIT %s", (step, count)).fetchall()
    out = []
    for r in rows:
        dy = HALF_M / 111_320.0
        dx = HALF_M / (111_320.0 * math.cos(math.radians(r["y"])))
        out.append(tuple(round(v, 6) for v in (r["x"] - dx, r["y"] - dy, r["x"] + dx,
                                                r["y"] + dy)))
    return out


def bbox_text(b) -> str:
    return ",".join(f"{v:.6f}" for v in b)


# -- servers ------------------------------------------------------------------------------
class Server:
    def __init__(self, name: str, cmd: list[str], env: dict, items: str, deep: str | None,
                 ready: str, extra: str = ""):
        self.name, self.cmd, self.env = name, cmd, env
        self.items = items  # path of the items endpoint
        self.deep = deep  # offset parameter name, or None: follow next links
        self.ready = ready  # path answering 200 once started
        self.extra = extra  # query string added to every items request
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log",
                                               delete=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def items_path(self, query: str) -> str:
        return f"{self.items}?{query}{self.extra}"

    def start(self) -> None:
        cmd = [c.replace("{port}", str(self.port)) for c in self.cmd]
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(self.base + self.ready, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        sys.exit(f"{self.name} did not start:\n{Path(self.log.name).read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def servers(url: str, tipg_venv: Path, pygeoapi_venv: Path, work: Path,
            only: set[str] | None = None) -> list[Server]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("TIPG_", "PYGEOAPI"))}
    ours_env = {**base_env, "SPP_RATE_IP_PER_S": "0", "SPP_RATE_KEY_PER_S": "0"}
    out = [Server("ours", [sys.executable, "-m", "gis", "serve", "--host", "127.0.0.1",
                           "--port", "{port}"], ours_env, f"/ogc/collections/{LAYER}/items",
                  None, "/ogc")]
    if only is None or "ours-fid" in only:  # ours paging bboxes by id (density cases only)
        out.append(Server("ours-fid", out[0].cmd, ours_env, out[0].items, None, "/ogc"))
    if only is not None and "tipg" not in only:
        pass
    elif (tipg_venv / "bin" / "uvicorn").exists():
        tipg_env = {**base_env, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["data"]',
                    "TIPG_DB_TABLES": f'["data.{LAYER}"]',
                    "TIPG_FALLBACK_KEY_NAMES": '["fid"]',
                    # TiPg's pool settings have no TIPG_ prefix (tipg.settings.PostgresSettings)
                    "DB_MIN_CONN_SIZE": "1", "DB_MAX_CONN_SIZE": "10"}
        out.append(Server("tipg", [str(tipg_venv / "bin" / "uvicorn"), "tipg.main:app",
                                   "--host", "127.0.0.1", "--port", "{port}", "--workers", "1",
                                   "--log-level", "warning", "--no-access-log"], tipg_env,
                          f"/collections/data.{LAYER}/items", "offset", "/collections",
                          extra="&properties=" + ",".join(PROPS)))
    else:
        print(f"TiPg skipped: no {tipg_venv}/bin/uvicorn", flush=True)
    if only is not None and "pygeoapi" not in only:
        pass
    elif (pygeoapi_venv / "bin" / "pygeoapi").exists():
        cfg, oapi = pygeoapi_config(url, work)
        subprocess.run([str(pygeoapi_venv / "bin" / "pygeoapi"), "openapi", "generate",
                        str(cfg), "--output-file", str(oapi)], check=True,
                       env={**base_env, "PYGEOAPI_CONFIG": str(cfg)},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        py_env = {**base_env, "PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(oapi)}
        out.append(Server("pygeoapi", [str(pygeoapi_venv / "bin" / "uvicorn"),
                                       "pygeoapi.starlette_app:APP", "--host", "127.0.0.1",
                                       "--port", "{port}", "--workers", "1", "--log-level",
                                       "warning", "--no-access-log"], py_env,
                          f"/collections/{LAYER}/items", "offset", "/collections",
                          extra="&f=json"))
    else:
        print(f"pygeoapi skipped: no {pygeoapi_venv}/bin/pygeoapi", flush=True)
    return out


def pygeoapi_config(url: str, work: Path) -> tuple[Path, Path]:
    m = re.match(r"postgresql://([^@:]+)(?::([^@]*))?@([^:/]+):(\d+)/(.+)", url)
    user, password, host, port, dbname = m.groups()
    props = "".join(f"\n              - {p}" for p in PROPS)
    text = f"""server:
  bind: {{host: 127.0.0.1, port: 5000}}
  url: http://127.0.0.1:5000
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: 'https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png', attribution: OSM}}
logging:
  level: ERROR
metadata:
  identification:
    title: bench
    description: bench
    keywords: [bench]
    keywords_type: theme
    terms_of_service: https://creativecommons.org/licenses/by/4.0/
    url: https://example.org
  license: {{name: CC-BY 4.0, url: https://creativecommons.org/licenses/by/4.0/}}
  provider: {{name: bench, url: https://example.org}}
  contact: {{name: bench, position: bench, address: x, city: x, stateorprovince: x,
            postalcode: x, country: x, phone: x, fax: x, email: x@example.org,
            url: https://example.org, hours: x, instructions: x, role: pointOfContact}}
resources:
  {LAYER}:
    type: collection
    title: Cadastral parcels
    description: Cadastral parcels
    keywords: [parcels]
    extents:
      spatial: {{bbox: [105.4, 9.9, 105.9, 10.4], crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}
    providers:
      - type: feature
        name: PostgreSQL
        data:
          host: {host}
          port: {port}
          dbname: {dbname}
          user: {user}
          password: '{password or ""}'
          search_path: [data, public]
        id_field: fid
        table: {LAYER}
        geom_field: geom
        properties:{props}
"""
    cfg = work / "pygeoapi.yml"
    cfg.write_text(text)
    return cfg, work / "pygeoapi-openapi.yml"


# -- load ---------------------------------------------------------------------------------
def wrk(server: Server, paths: list[str], seconds: int, concurrency: int, work: Path,
        case: str = "") -> dict:
    # paths-ours.txt: the many-clients list, which bench/items_instructions.py replays
    plist = work / f"paths-{server.name}{f'-{case}' if case else ''}.txt"
    plist.write_text("\n".join(paths) + "\n")
    script = work / "bench.lua"
    script.write_text(LUA)
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s",
                          "-s", str(script), server.base, "--", str(plist)],
                         capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        sys.exit(f"wrk failed:\n{out.stdout}\n{out.stderr}")
    r = json.loads(line[7:])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    if r["status_errors"] or r["socket_errors"]:
        print(f"  WARNING {server.name}: {r['status_errors']} non-2xx, {r['socket_errors']} "
              "socket errors", flush=True)
    return r


def our_statements(queries: list[str]) -> list[tuple[str, list]]:
    """The page statement our server runs for each items query string, and its values, as
    ``services.ogc.items._page_statement`` makes them for the public (what pgbench runs)."""
    import asyncio

    from psycopg import AsyncConnection
    from psycopg.rows import dict_row
    from starlette.datastructures import QueryParams

    from services.catalog import Catalog
    from services.ogc import items
    from services.ogc.curvesample import CurveSample
    from services.ogc.params import parse_items_query

    async def read() -> object:
        async with await AsyncConnection.connect(db.database_url(), autocommit=True,
                                                 row_factory=dict_row) as conn:
            return (await Catalog().layers(conn))[LAYER]

    info = asyncio.run(read())
    visible = {n: c for n, c in info.columns.items() if not c.personal}
    sample = None  # the version's key sample: the server's choice of plan per box
    with db.connect() as conn:
        keys = conn.execute("SELECT sfc_sample FROM spp.layer_versions WHERE layer_id = %s "
                            "AND version = %s", (LAYER, info.current_version)
                            ).fetchone()["sfc_sample"]
    if keys is not None and info.sfc_pad is not None:
        sample = CurveSample(list(keys), info.sfc_every, info.sfc_pad)
    out = []
    for text in queries:
        q = parse_items_query(QueryParams(text), visible, has_time=info.time_field is not None,
                              layer_id=LAYER, curve=info.sfc_pad is not None, sample=sample)
        out.append(items._page_statement(info, visible, q))
    return out


def pgbench(url: str, statements: list[tuple[str, list]], seconds: int, concurrency: int,
            work: Path) -> dict:
    """Transactions/s and latency of our page statements (``our_statements``): one script
    per statement text (the plan chosen per box: along the curve or by id), weighted by how
    many boxes have it, each run with the values of a random one of its boxes."""
    shapes: dict[str, list[list]] = {}
    for text, values in statements:
        shapes.setdefault(text, []).append(values)
    scripts = []
    for n, (text, value_sets) in enumerate(shapes.items()):
        lines = [f"\\set i random(0, {len(value_sets) - 1})"]
        for k, values in enumerate(value_sets):
            kw = "\\if" if k == 0 else "\\elif"
            lines.append(f"{kw} :i = {k}")
            lines += [f"\\set v{m} {v!r}" for m, v in enumerate(values, 1)]
        lines.append("\\endif")
        lines.append(re.sub(r"\$(\d+)", r":v\1", " ".join(text.split())) + ";")
        script = work / f"pgbench{n}.sql"
        script.write_text("\n".join(lines) + "\n")
        scripts += ["-f", f"{script}@{len(value_sets)}"]
    logdir = work / "pglog"
    shutil.rmtree(logdir, ignore_errors=True)
    logdir.mkdir()
    m = re.match(r"postgresql://([^@:]+)(?::[^@]*)?@([^:/]+):(\d+)/(.+)", url)
    user, host, port, dbname = m.groups()
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(concurrency), "-j", "1",
                          "-T", str(seconds), *scripts, "-l", "--log-prefix",
                          str(logdir / "tx"), "-h", host, "-p", port, "-U", user, dbname],
                         capture_output=True, text=True, cwd=logdir,
                         # the session settings of our page connections (services/pages.py)
                         env={**os.environ,
                              "PGOPTIONS": "-c max_parallel_workers_per_gather=0"})
    if out.returncode != 0:
        sys.exit(f"pgbench failed:\n{out.stdout}\n{out.stderr}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial", out.stdout).group(1))
    lat = sorted(int(ln.split()[2]) for f in logdir.iterdir() for ln in f.read_text()
                 .splitlines())
    return {"rps": tps, "requests": len(lat), "p50_us": pct(lat, 50), "p95_us": pct(lat, 95)}


def pct(values: list, p: float):
    return values[min(len(values) - 1, int(len(values) * p / 100))]


# -- correctness and deep paging ----------------------------------------------------------
CHECK_LIMIT = 1000  # the id check asks for every match of a 300 m box at once


def ids_of(server: Server, bbox) -> set[int]:
    r = httpx.get(server.base + server.items_path(
        f"bbox={bbox_text(bbox)}&limit={CHECK_LIMIT}"), timeout=60)
    r.raise_for_status()
    return {int(f["id"]) for f in r.json()["features"]}


def sql_ids(bbox) -> set[int]:
    """Every feature meeting the box (the servers page in different orders: ours along the
    curve, the others by id, so the check compares the whole set)."""
    with db.connect() as conn:
        rows = conn.execute("SELECT fid FROM data.cadastral_parcels WHERE ST_Intersects(geom, "
                            "ST_MakeEnvelope(%s, %s, %s, %s, 4326))", list(bbox)).fetchall()
    if len(rows) >= CHECK_LIMIT:
        sys.exit(f"bbox {bbox_text(bbox)}: {len(rows)} matches, more than the check reads")
    return {r["fid"] for r in rows}


# -- pages of one client over boxes of every density ------------------------------------
def density_cases(count: int) -> dict[str, list[tuple]]:
    """Boxes of one client's p50: 'block' (0.02 degrees) and 'district' (0.05) centred on the
    ``count`` densest 0.02-degree cells of the table (thousands of parcels each), and 'city'
    (the table's extent)."""
    with db.connect() as conn:
        e = conn.execute("SELECT ST_XMin(e) AS x0, ST_YMin(e) AS y0, ST_XMax(e) AS x1, "
                         "ST_YMax(e) AS y1 FROM (SELECT ST_Extent(geom) AS e FROM "
                         "data.cadastral_parcels) s").fetchone()
        cells = conn.execute(
            "SELECT (floor(ST_X(c) / 0.02) + 0.5) * 0.02 AS x, (floor(ST_Y(c) / 0.02) + 0.5) "
            "* 0.02 AS y FROM (SELECT ST_Centroid(geom) AS c FROM data.cadastral_parcels) t "
            "GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT %s", (count,)).fetchall()
    out = {"city": [(e["x0"], e["y0"], e["x1"], e["y1"])]}
    for name, half in (("district", 0.025), ("block", 0.01)):
        out[name] = [(c["x"] - half, c["y"] - half, c["x"] + half, c["y"] + half)
                     for c in cells]
    return out


def matches(box) -> int:
    with db.connect() as conn:
        return conn.execute("SELECT count(*) AS n FROM data.cadastral_parcels WHERE "
                            "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
                            list(box)).fetchone()["n"]


def fid_order(on: bool, saved: dict) -> None:
    """Ours as before the curve ('ours-fid'): the current version's pad hidden, so the
    server pages bboxes by id (what a version without curve keys gets)."""
    with db.connect() as conn:
        if on:
            saved["pad"] = conn.execute(
                "SELECT v.sfc_pad FROM spp.layers l JOIN spp.layer_versions v ON "
                "v.layer_id = l.id AND v.version = l.current_version WHERE l.id = %s",
                (LAYER,)).fetchone()["sfc_pad"]
        conn.execute("UPDATE spp.layer_versions v SET sfc_pad = %s FROM spp.layers l WHERE "
                     "l.id = %s AND v.layer_id = l.id AND v.version = l.current_version",
                     (None if on else saved["pad"], LAYER))


def bbox_paging(server: Server, box, pages: int, repeats: int) -> dict:
    """Median seconds of page 1 and page ``pages`` of a bbox query (limit 100): ours follows
    the next links, the others jump with their offset."""
    with httpx.Client(base_url=server.base, timeout=120) as c:
        first = server.items_path(f"bbox={bbox_text(box)}&limit={LIMIT}")
        url = first
        if server.deep is None:
            for _ in range(pages - 1):
                _, doc = timed_get(c, url)
                url = next(lk["href"] for lk in doc["links"] if lk["rel"] == "next")
        else:
            url = server.items_path(f"bbox={bbox_text(box)}&limit={LIMIT}&{server.deep}="
                                    f"{(pages - 1) * LIMIT}")
        for _ in range(WARM_PLANS):
            timed_get(c, first)
            timed_get(c, url)
        t1 = [timed_get(c, first)[0] for _ in range(repeats)]
        tn = [timed_get(c, url)[0] for _ in range(repeats)]
    return {"page1": statistics.median(t1), "pageN": statistics.median(tn)}


# requests before timing a statement shape: PostgreSQL plans a prepared statement afresh for
# its first 5 runs on each connection (ours has 10) before it may keep a generic plan
WARM_PLANS = 60


def timed_get(client: httpx.Client, url: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    r = client.get(url)
    dt = time.perf_counter() - t0
    r.raise_for_status()
    return dt, r.json()


def deep_paging(server: Server, repeats: int) -> dict:
    """Median seconds of page 1 and of page DEEP_PAGE (limit 100, no filter)."""
    with httpx.Client(base_url=server.base, timeout=120) as c:
        first = server.items_path(f"limit={LIMIT}")
        if server.deep is None:  # ours: follow the next links
            url, t_walk0 = first, time.perf_counter()
            for _ in range(DEEP_PAGE - 1):
                _, doc = timed_get(c, url)
                url = next(lk["href"] for lk in doc["links"] if lk["rel"] == "next")
            walk = time.perf_counter() - t_walk0
        else:
            url = server.items_path(f"limit={LIMIT}&{server.deep}={(DEEP_PAGE - 1) * LIMIT}")
            walk = None
        t1 = [timed_get(c, first)[0] for _ in range(repeats)]
        tn, docs = [], []
        for _ in range(repeats):
            dt, doc = timed_get(c, url)
            tn.append(dt)
            docs.append(doc)
    ids = [f["id"] for f in docs[0]["features"]]
    return {"page1": statistics.median(t1), "pageN": statistics.median(tn), "walk": walk,
            "first_id": ids[0] if ids else None, "n": len(ids)}


# -- main ---------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=20, help="length of a measured run")
    ap.add_argument("--warmup", type=int, default=5, help="seconds of warm-up load")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--bboxes", type=int, default=200)
    ap.add_argument("--page-repeats", type=int, default=15)
    ap.add_argument("--parcels", type=int, default=300_000,
                    help="parcels of the sample (another number: another SPP_DATA_DIR)")
    ap.add_argument("--density-seconds", type=int, default=8,
                    help="length of a one-client run of a density case")
    ap.add_argument("--density-boxes", type=int, default=10)
    ap.add_argument("--density-runs", type=int, default=3,
                    help="one-client runs of each case, alternating with pgbench")
    ap.add_argument("--bbox-pages", type=int, default=20,
                    help="deep page of the block bbox (its matches allowing)")
    ap.add_argument("--tipg-venv", type=Path, default=Path("/tmp/tipg-venv"))
    ap.add_argument("--pygeoapi-venv", type=Path, default=Path("/tmp/pygeoapi-venv"))
    ap.add_argument("--only", help="comma-separated subset: ours,ours-fid,tipg,pygeoapi,pgbench")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None

    url = prepare_data(args.parcels)
    work = get_settings().data_dir / "bench-features-work"
    work.mkdir(parents=True, exist_ok=True)
    bboxes = make_bboxes(args.bboxes)
    with db.connect() as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()["server_version"]
        postgis = conn.execute("SELECT postgis_lib_version() AS v").fetchone()["v"]
        total = conn.execute("SELECT count(*) AS n FROM data.cadastral_parcels").fetchone()["n"]
    counts = [len(sql_ids(b)) for b in bboxes[:20]]
    print(f"{total:,} parcels; {len(bboxes)} bboxes of {2 * HALF_M:.0f} m; features in the "
          f"first 20: min {min(counts)}, median {statistics.median(counts)}, max "
          f"{max(counts)}", flush=True)
    cases = density_cases(args.density_boxes)
    held = {k: statistics.median(matches(b) for b in v) for k, v in cases.items()}
    print("density cases (median features matched): " + ", ".join(
        f"{k} {held[k]:,.0f} ({len(v)} boxes)" for k, v in cases.items()), flush=True)
    deep_box = cases["block"][0]
    pages = max(2, min(args.bbox_pages, matches(deep_box) // LIMIT))
    srv = [s for s in servers(url, args.tipg_venv, args.pygeoapi_venv, work, only)
           if only is None or s.name in only]

    results: dict[str, list[dict]] = {}
    pairs: list[float] = []  # ours / pgbench of each pair of runs back to back
    paging: dict[str, dict] = {}
    density: dict[str, dict[str, dict]] = {}
    bbox_deep: dict[str, dict] = {}
    check = [bboxes[k] for k in range(0, len(bboxes), max(1, len(bboxes) // 5))][:5]
    expected = [sql_ids(b) for b in check]
    saved: dict = {}
    with_pgbench = only is None or "pgbench" in only
    page_queries = [f"bbox={bbox_text(b)}&limit={LIMIT}" for b in bboxes]
    for s in srv:
        print(f"\n== {s.name}", flush=True)
        if s.name == "ours-fid":
            fid_order(True, saved)
        s.start()
        try:
            for b, exp in zip(check, expected, strict=True):
                got = ids_of(s, b)
                if got != exp:
                    sys.exit(f"{s.name}: bbox {bbox_text(b)} gives {len(got)} features, "
                             f"{len(got - exp)} not meeting it, {len(exp - got)} missing")
            print(f"  same features as SQL for {len(check)} bboxes "
                  f"({sum(map(len, expected))} features)", flush=True)
            if s.name != "ours-fid":  # the load of many clients: ours as it is
                paths = [s.items_path(q) for q in page_queries]
                wrk(s, paths, args.warmup, args.concurrency, work)  # warm-up
                # pgbench's runs alternate with ours (the machine's speed drifts between
                # minutes: a pair run back to back is what compares)
                paired = s.name == "ours" and with_pgbench
                if paired:
                    statements = our_statements(page_queries)
                    pgbench(url, statements, args.warmup, args.concurrency, work)  # warm-up
                    results["pgbench"] = []
                results[s.name] = []
                for run in range(args.runs):
                    r = wrk(s, paths, args.seconds, args.concurrency, work)
                    results[s.name].append(r)
                    line = (f"  run {run + 1}: {r['rps']:.1f} req/s, p50 "
                            f"{r['p50_us'] / 1000:.1f} ms, p95 {r['p95_us'] / 1000:.1f} ms "
                            f"({r['requests']} requests)")
                    if paired:
                        q = pgbench(url, statements, args.seconds, args.concurrency, work)
                        results["pgbench"].append(q)
                        pairs.append(r["rps"] / q["rps"])
                        line += (f"; pgbench right after {q['rps']:.1f} tx/s: pair ratio "
                                 f"{pairs[-1]:.2f}")
                    print(line, flush=True)
                paging[s.name] = p = deep_paging(s, args.page_repeats)
                print(f"  page 1 {p['page1'] * 1000:.1f} ms, page {DEEP_PAGE} "
                      f"{p['pageN'] * 1000:.1f} ms (first id {p['first_id']})"
                      + (f", walk of {DEEP_PAGE - 1} next links {p['walk']:.1f} s"
                         if p["walk"] else ""), flush=True)
            # one client, each case alternating with pgbench on the statement this server
            # runs (the machine's load drifts: the pair is what compares)
            peer = {"ours": "pgbench", "ours-fid": "pgbench-fid"}.get(s.name) \
                if with_pgbench else None
            density[s.name] = {}
            if peer:
                density[peer] = {}
            for name, boxes in cases.items():
                queries = [f"bbox={bbox_text(b)}&limit={LIMIT}" for b in boxes]
                paths = [s.items_path(q) for q in queries]
                statements = our_statements(queries) if peer else None
                wrk(s, paths, 2, 1, work, name)  # warm-up (and past the custom plans)
                mine, theirs = [], []
                for _ in range(args.density_runs):
                    mine.append(wrk(s, paths, args.density_seconds, 1, work, name))
                    if peer:
                        theirs.append(pgbench(url, statements, args.density_seconds, 1, work))
                r = density[s.name][name] = middle(mine)
                line = f"  one client, {name}: p50 {r['p50_us'] / 1000:.2f} ms"
                if peer:
                    density[peer][name] = middle(theirs)
                    line += f" ({peer} {density[peer][name]['p50_us'] / 1000:.2f} ms)"
                print(line + f" over {args.density_runs} runs", flush=True)
            bbox_deep[s.name] = p = bbox_paging(s, deep_box, pages, args.page_repeats)
            print(f"  block bbox: page 1 {p['page1'] * 1000:.1f} ms, page {pages} "
                  f"{p['pageN'] * 1000:.1f} ms", flush=True)
        finally:
            s.stop()
            if s.name == "ours-fid":
                fid_order(False, saved)
    if with_pgbench and "pgbench" not in results:
        print("\n== pgbench (our page statement, the same values)", flush=True)
        statements = our_statements(page_queries)
        pgbench(url, statements, args.warmup, args.concurrency, work)  # warm-up
        results["pgbench"] = []
        for run in range(args.runs):
            r = pgbench(url, statements, args.seconds, args.concurrency, work)
            results["pgbench"].append(r)
            print(f"  run {run + 1}: {r['rps']:.1f} tx/s, p50 {r['p50_us'] / 1000:.1f} ms, "
                  f"p95 {r['p95_us'] / 1000:.1f} ms ({r['requests']} transactions)", flush=True)

    best = {k: max(v, key=lambda r: r["rps"]) for k, v in results.items()}
    print(f"\nmachine: {os.cpu_count()} CPU, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, PostgreSQL {pg_version}, PostGIS {postgis}, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{total:,} parcels; items?bbox=...&limit={LIMIT}: {len(bboxes)} bboxes, "
          f"concurrency {args.concurrency}, runs of {args.seconds} s, best of {args.runs}")
    print(f"{'server':10} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'page 1 ms':>10} "
          f"{'page 500 ms':>12} {'500/1':>6}  numberMatched")
    for k, r in best.items():
        p = paging.get(k)
        deep = (f"{p['page1'] * 1000:10.1f} {p['pageN'] * 1000:12.1f} "
                f"{p['pageN'] / p['page1']:6.2f}") if p else f"{'':30}"
        print(f"{k:10} {r['rps']:8.1f} {r['p50_us'] / 1000:8.1f} {r['p95_us'] / 1000:8.1f} "
              f"{deep}  {COUNTS.get(k, '')}")
    if density:
        print(f"\none client, p50 ms of bbox&limit={LIMIT} pages (median matches: "
              + ", ".join(f"{k} {held[k]:,.0f}" for k in cases) + f"); block bbox page 1 "
              f"and page {pages} (next links for ours, offset for the others)")
        print(f"{'server':12} " + " ".join(f"{k:>9}" for k in cases)
              + f" {'page 1':>8} {f'page {pages}':>8}")
        for k, d in density.items():
            p = bbox_deep.get(k)
            tail = f" {p['page1'] * 1000:8.2f} {p['pageN'] * 1000:8.2f}" if p else ""
            print(f"{k:12} " + " ".join(f"{d[c]['p50_us'] / 1000:9.2f}" for c in cases)
                  + tail)
    if "ours" in best:
        o = best["ours"]["rps"]
        for k, target in (("tipg", 2.0), ("pygeoapi", 4.0), ("pgbench", 0.6)):
            if k in best:
                ratio, how = o / best[k]["rps"], "best against best"
                if k == "pgbench" and pairs:  # runs minutes apart compare two machines
                    ratio, how = statistics.median(pairs), f"median of {len(pairs)} pairs"
                print(f"ours / {k}: {ratio:.2f}, {how} (target >= {target}) "
                      f"{'met' if ratio >= target else 'MISSED'}")
        if "ours" in paging:
            p = paging["ours"]
            ratio = p["pageN"] / p["page1"]
            print(f"ours page {DEEP_PAGE} / page 1: {ratio:.2f} (target <= 1.5) "
                  f"{'met' if ratio <= 1.5 else 'MISSED'}")
    if "ours" in density:
        worst = max(d["p50_us"] for d in density["ours"].values()) / 1000
        print(f"ours one-client p50, worst density case: {worst:.2f} ms (target <= 5 ms at "
              f"300 000 parcels) {'met' if worst <= 5 else 'MISSED'}")


# what each server does about numberMatched on an items page
COUNTS = {"ours": "not counted under a bbox or filter (absent)",
          "tipg": "counted: a count(*) of the same WHERE on every request",
          "pgbench": "-"}


def middle(runs: list[dict]) -> dict:
    """The run of median p50."""
    return sorted(runs, key=lambda r: r["p50_us"])[len(runs) // 2]


if __name__ == "__main__":
    main()
