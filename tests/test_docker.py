"""The production files a Docker engine would read (none runs on these machines): the
compose file parses and names only settings the code reads, the Dockerfile copies what exists
and runs as a non-root user with a health check. tests/test_install.py runs the Dockerfile's
build stages as a script and serves from the wheel they make."""

from __future__ import annotations

import re
import shlex
import subprocess

import yaml

from gis.settings import Settings
from tests.conftest import ROOT
from tests.dockerfile_steps import context_files, ignored, parse

COMPOSE = ROOT / "docker" / "compose.yaml"


def _settings_env_names() -> set[str]:
    names = {"DATABASE_URL", "SPP_DATABASE_URL"}
    for name in Settings.model_fields:
        names.add("SPP_" + name.upper())
    return names


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_names_only_settings_the_code_reads():
    doc = _compose()
    known = _settings_env_names()
    ours = {n: s for n, s in doc["services"].items() if "build" in s}  # the app image
    assert set(ours) == {"migrate", "app", "loader"}
    for name, svc in ours.items():
        env = svc.get("environment") or {}
        for key in env:
            if key.startswith("SPP_") or key == "DATABASE_URL":
                assert key in known, f"{name}: {key} is no setting of gis/settings.py"


def test_compose_variables_are_documented_or_defaulted():
    text = COMPOSE.read_text()
    example = {line.split("=", 1)[0] for line in
               (ROOT / "docker" / "example.env").read_text().splitlines()
               if "=" in line and not line.startswith("#")}
    for var, rest in re.findall(r"\$\{(\w+)(:?[-?][^}]*)?\}", text):
        assert var in example or rest.startswith(":-"), var


def test_compose_tiers_and_roles():
    svc = _compose()["services"]
    assert svc["migrate"]["command"] == ["gis", "db", "migrate"]
    assert "DATABASE_URL" in svc["migrate"]["environment"]
    app = svc["app"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    env = app["environment"]
    assert "DATABASE_URL" not in env, "the web tier must not hold the owner role"
    assert env["SPP_WEB_DATABASE_URL"].startswith("postgresql://spp_web:${SPP_WEB_DB_PASSWORD}@")
    assert env["SPP_MIGRATE_ON_START"] == "false"
    assert "--workers" in " ".join(app["command"])
    assert svc["db"]["image"].startswith("postgis/postgis:")
    assert any(v.endswith(":/data") for v in app["volumes"])


def test_dockerfile_stages_copy_what_exists_and_run_unprivileged():
    stages = parse()
    assert [s.name for s in stages] == ["web", "build", "runtime"]
    context = context_files()
    for stage in stages:
        for op, args in stage.steps:
            if op == "COPY" and "--from=" not in args:
                *sources, _ = [w for w in shlex.split(args) if not w.startswith("--")]
                for src in sources:
                    assert any(f == src or f.startswith(src + "/") for f in context), src
    runtime = dict(stages[-1].steps)
    assert runtime["USER"] not in ("root", "0")
    assert "/health" in runtime["HEALTHCHECK"]
    assert "gis" in runtime["CMD"] and "serve" in runtime["CMD"]
    assert "npm ci" in dict(stages[0].steps)["RUN"]


def test_dockerignore_keeps_local_state_out_of_the_context():
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    for local in (".venv/bin/python", "var/pg/PG_VERSION", ".git/HEAD",
                  "services/web/node_modules/maplibre-gl/package.json", "tests/conftest.py"):
        assert ignored(local, patterns), local
    assert not ignored("gis/migrations/0001_catalog.sql", patterns)
    assert not ignored("services/web/app.js", patterns)


def test_compose_replica_is_a_streaming_standby_the_web_tier_reads():
    svc = _compose()["services"]
    replica = svc["db-replica"]
    assert replica["image"] == svc["db"]["image"]
    script = (ROOT / "docker" / "replica" / "start.sh")
    text = script.read_text()
    assert "pg_basebackup" in text and " -R " in text and "exec gosu postgres postgres" in text
    assert any(v.startswith("./replica:/replica") for v in replica["volumes"])
    init = [v for v in svc["db"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert init and (ROOT / "docker" / init[0].split(":")[0].removeprefix("./")).is_file()
    reads = svc["app"]["environment"]["SPP_READ_DATABASE_URLS"]
    assert reads.startswith("postgresql://spp_web:") and "@db-replica:5432/" in reads
    assert svc["app"]["depends_on"]["db-replica"]["condition"] == "service_healthy"
    for path in (script, ROOT / "docker" / "initdb" / "20-replication.sh"):
        subprocess.run(["bash", "-n", str(path)], check=True)
