"""docker/Dockerfile's build stages run as a script, without a Docker engine (these machines
have none): each stage gets a folder of its own that stands for its root file system, COPY
takes the build context as .dockerignore leaves it (tracked files only), RUN runs in bash.
The result is what the image's runtime stage would install."""

from __future__ import annotations

import fnmatch
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "docker" / "Dockerfile"


@dataclass
class Stage:
    name: str
    base: str
    steps: list[tuple[str, str]] = field(default_factory=list)  # (instruction, arguments)


def parse(path: Path = DOCKERFILE) -> list[Stage]:
    stages: list[Stage] = []
    logical, buf = [], ""
    for line in path.read_text().splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        buf += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            logical.append(buf)
            buf = ""
    for line in logical:
        op, _, args = line.partition(" ")
        op = op.upper()
        if op == "FROM":
            words = args.split()
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name, words[0]))
        else:
            stages[-1].steps.append((op, args.strip()))
    return stages


def ignored(rel: str, patterns: list[str]) -> bool:
    parts = rel.split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        for pat in patterns:
            if fnmatch.fnmatch(prefix, pat) or (pat.startswith("**/") and
                                                 fnmatch.fnmatch(parts[i - 1], pat[3:])):
                return True
    return False


def context_files() -> list[str]:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split("\n")
    return [f for f in tracked if f and not ignored(f, patterns)]


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def run_build_stages(workdir: Path, upto: str = "build") -> dict[str, Path]:
    """Run the stages up to `upto`; returns each stage's root folder."""
    context = context_files()
    roots: dict[str, Path] = {}
    for stage in parse():
        root = roots[stage.name] = workdir / stage.name
        root.mkdir(parents=True)
        cwd = root
        for op, args in stage.steps:
            if op == "WORKDIR":
                cwd = root / args.lstrip("/")
                cwd.mkdir(parents=True, exist_ok=True)
            elif op == "COPY":
                words = shlex.split(args)
                origin = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")),
                              None)
                paths = [w for w in words if not w.startswith("--")]
                *sources, dest = paths
                target = root / dest.lstrip("/") if dest.startswith("/") else cwd / dest
                for source in sources:
                    if origin:
                        _copy(roots[origin] / source.lstrip("/"),
                              target if not dest.endswith("/") else target / Path(source).name)
                        continue
                    files = [f for f in context if f == source or f.startswith(source + "/")]
                    if not files:
                        raise AssertionError(f"COPY {source}: not in the build context")
                    for f in files:
                        if f == source:
                            out = target / Path(f).name if dest.endswith("/") else target
                        else:
                            out = target / Path(f).relative_to(source)
                        _copy(ROOT / f, out)
            elif op == "RUN":
                cmd = args[len("pip "):] if args.startswith("pip ") else None
                cmd = f"{shlex.quote(sys.executable)} -m pip {cmd}" if cmd else args
                subprocess.run(["bash", "-euc", cmd], cwd=cwd, check=True, timeout=600,
                               capture_output=True)
        if stage.name == upto:
            return roots
    return roots
