"""What GIS staff read after a load: a summary table, and a layer's history."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis.loader.changes import describe, key_note

STATUS_TEXT = {"current": "[green]loaded (current)[/]", "dry_run": "[cyan]dry run: not swapped[/]",
               "unchanged": "[yellow]unchanged[/]"}


def print_summary(console: Console, r) -> None:
    t = Table(title=f"{r.layer_id} ← {escape(r.source)}", show_header=False,
              title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    t.add_row("result / kết quả", STATUS_TEXT.get(r.status, r.status) +
              (f"  version v{r.version}" if r.version else ""))
    if r.status == "unchanged":
        t.add_row("", r.message)
        console.print(t)
        return
    t.add_row("source SHA-256", r.sha256)
    t.add_row("CRS", f"{r.crs.get('source_crs', '')[:80]}  ({r.crs.get('origin')})")
    t.add_row("operation", str(r.crs.get("operation")))
    t.add_row("datum", str(r.crs.get("datum_message_en") or r.crs.get("datum_case")))
    if r.axis:
        t.add_row("axis order", r.axis)
    if getattr(r, "profile", None):
        t.add_row("profile / hồ sơ", r.profile)
    if getattr(r, "declared_charset", None):
        t.add_row("declared text / khai báo", f"{escape(r.declared_charset)}: not trusted, "
                  "detected per field / không dùng, bảng mã nhận dạng theo từng trường")
    for line in getattr(r, "library_warnings", None) or []:
        times = f" (×{line['count']})" if line["count"] > 1 else ""
        t.add_row("[yellow]library / thư viện[/]", escape(f"{line['vi']} / {line['en']}{times}"))
    for field, rep in (r.encodings or {}).items():
        t.add_row(f"text {escape(str(field))}", rep if isinstance(rep, str) else
                  f"{rep.get('encoding')} ({rep.get('changed', 0)} values converted)")
    for label, text in field_rows(getattr(r, "fields", None) or {}):
        t.add_row(label, text)
    t.add_row("read / đọc", f"{r.count_read:,}")
    t.add_row("loaded / nạp", f"{r.count_loaded:,}")
    t.add_row("repaired / sửa", f"{r.count_repaired:,}")
    t.add_row("rejected / loại", f"{r.count_rejected:,}")
    t.add_row("  of which no geometry", f"{r.count_empty:,}")
    for row, why in r.rejects[:10]:
        t.add_row("", f"row {row}: {escape(why)}")
    if len(r.rejects) > 10:
        t.add_row("", f"... {len(r.rejects) - 10} more (gis layer history {r.layer_id})")
    for what, n in r.warnings.items():
        t.add_row("[yellow]warning[/]", f"{escape(what)}: {n:,}")
    for codelist, n in r.code_lists.items():
        t.add_row("code list", f"{codelist}: {n:,} values")
    if r.changes:
        t.add_row(f"changes vs v{r.changes['against']}" if r.changes["against"] else
                  "changes", describe(r.changes))
        if "key_rule" in r.changes:
            t.add_row("key rule / khoá", r.changes["key_rule"] + key_note(r.changes))
        for what, listed in (("moved / dời", "moved_features"),
                             ("changed / đổi", "changed_features")):
            for f in (r.changes.get(listed) or [])[:10]:
                t.add_row(what, f"fid {f['fid']} (row {f['row']}): " +
                          (f"{f['moved_m']:g} m" if "moved_m" in f else
                           ", ".join(f.get("fields") or [])))
    if r.feature_count is not None:
        t.add_row("features in version", f"{r.feature_count:,}")
    if r.seconds:
        t.add_row("time", f"{r.seconds:.1f} s ({r.count_read / max(r.seconds, 1e-9):,.0f} "
                  "features/s)")
    console.print(t)


def field_rows(fields: dict) -> list[tuple[str, str]]:
    """Every source field accounted for: mapped to which layer field (and why), made the
    geometry, kept unpublished in `extra` (with a suggestion) or dropped; then the layer
    fields a profile derives or sets. Names come from the delivery: escaped for rich."""
    rows: list[tuple[str, str]] = []
    how = fields.get("how", {})
    suggestions = fields.get("suggestions", {})
    used_by: dict[str, list[str]] = {}
    for target, names in (fields.get("derived_inputs") or {}).items():
        for col in names.values():
            used_by.setdefault(col, []).append(target)
    for src, dst in (fields.get("mapped") or {}).items():
        note = f" ({escape(how[src])})" if src in how else ""
        rows.append((escape(src), f"→ {dst}{note}" + _read_by(used_by.get(src))))
    for src in fields.get("coordinates") or []:
        rows.append((escape(src), "→ geometry / hình học (coordinates)"))
    for src in fields.get("extra") or []:
        text = ("[yellow]not mapped: kept unpublished in extra / chưa ánh xạ: giữ trong extra, "
                "không công bố[/]" + _read_by(used_by.get(src)))
        s = suggestions.get(src)
        if s:
            text += (f"; suggestion / gợi ý: {s['field']} ({escape(s['label_vi'])} / "
                     f"{escape(s['label_en'])}, {escape(s['why'])}): --map "
                     f"{escape(src)}={s['field']} or field_map in a profile")
        elif not used_by.get(src):
            text += "; no layer field looks like it / không giống trường nào: drop it in a profile"
        rows.append((escape(src), text))
    for src in fields.get("dropped") or []:
        rows.append((escape(src), "dropped by the profile / bỏ theo hồ sơ"))
    for src, dst in (fields.get("absent") or {}).items():
        rows.append((escape(src), f"[yellow]not in this delivery / không có trong tệp[/]: the "
                     f"profile maps it to {dst}"))
    for target, expr in (fields.get("derived") or {}).items():
        rows.append((f"= {target}", f"derived / suy ra: {escape(expr)}"))
    for target, value in (fields.get("constants") or {}).items():
        rows.append((f"= {target}", f"constant / hằng số: {escape(repr(value))}"))
    for target in fields.get("value_maps") or []:
        rows.append((f"= {target}", "values translated by the profile's value map / mã được "
                     "đổi theo bảng của hồ sơ"))
    if not rows:
        return rows
    counts = (f"{len(fields.get('mapped') or {})} mapped / ánh xạ, "
              f"{len(fields.get('extra') or [])} in extra, "
              f"{len(fields.get('dropped') or [])} dropped / bỏ")
    return [("source fields / trường nguồn", counts), *((f"  {a}", b) for a, b in rows)]


def _read_by(targets: list[str] | None) -> str:
    return f"; read by derived {', '.join(targets)}" if targets else ""


def print_history(console: Console, layer_id: str, rows: list[dict]) -> None:
    t = Table(title=f"{layer_id}: {len(rows)} versions / phiên bản")
    for col in ("v", "status", "mode", "source", "sha256", "CRS → operation", "read", "loaded",
                "repaired", "rejected", "features", "changes", "finished", "operator"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["version"]), r["status"] + ("" if r["table_name"] or r["status"] in
                                                   ("failed", "dry_run") else " (dropped)"),
                  r["mode"], (r["source_name"] or "") + _profile(r),
                  (r["source_sha256"] or "")[:12],
                  f"{r['source_crs'] or ''} → {r['operation'] or ''}"[:70],
                  *(f"{r[k]:,}" if r[k] is not None else "-" for k in
                    ("count_read", "count_loaded", "count_repaired", "count_rejected",
                     "feature_count")),
                  _changes(r),
                  r["finished_at"].strftime("%Y-%m-%d %H:%M:%S") if r["finished_at"] else "-",
                  r["operator"] or "")
        if r["status"] == "failed" and r["message"]:
            t.add_row("", f"[red]{r['message'][:200]}[/]", *[""] * 12)
    console.print(t)


def _profile(row: dict) -> str:
    """ (profile NAME) when the version was loaded through a delivery profile."""
    if row["status"] == "failed":
        return ""
    try:
        name = json.loads(row["message"] or "{}").get("profile")
    except (ValueError, AttributeError):
        return ""
    return f" (profile {name})" if name else ""


def _changes(row: dict) -> str:
    """+added ~changed -removed against the version it replaced (from the lineage); an
    edit's feature ids."""
    if row.get("edits"):
        e = row["edits"]
        fids = [*e.get("created", []), *e.get("updated", []), *e.get("deleted", [])]
        shown = ", ".join(map(str, fids[:5])) + (", ..." if len(fids) > 5 else "")
        return (f"+{len(e.get('created', []))} ~{len(e.get('updated', []))} "
                f"-{len(e.get('deleted', []))} (fid {shown})")
    try:
        c = json.loads(row["message"] or "{}").get("changes")
    except (ValueError, AttributeError):
        return ""
    if not c:
        return ""
    changed = "?" if c["changed"] is None else f"{c['changed']:,}"
    kept = ""
    if "key_rule" in c:  # loaded under a key rule (keys: in the layer file)
        kept = (f" ={c['matched']:,} ({c['moved']:,} moved)"
                + (" generated keys" if c["generated"] else ""))
    return f"+{c['added']:,} ~{changed} -{c['removed']:,}{kept}"
