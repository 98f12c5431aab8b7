/* SPP Cần Thơ web map: reports from citizens and businesses ("Báo cáo / Report") and, for
 * staff, the moderation list. The form is built from /submissions/kinds (the layer files'
 * `submissions:`): pick a place on the map, a kind, its fields, a photo; sent as a multipart
 * form to POST /submissions. Staff enter an API key (kept in sessionStorage, gone with the tab)
 * to list, approve and reject the reports of their department's layers. Everything a report
 * holds is shown as text (textContent / esc), never as HTML. Names no layer. */
(function () {
  "use strict";

  const T = {
    vi: {
      report: "Báo cáo", title: "Gửi báo cáo", intro: "Báo cáo của bạn được cán bộ xem xét trước khi công bố. Không ghi thông tin cá nhân.",
      kind: "Loại báo cáo", place: "Vị trí", pickHint: "Nhấp vào bản đồ để chọn vị trí", picked: "Đã chọn",
      locate: "Vị trí của tôi", message: "Mô tả thêm", photo: "Ảnh (JPEG, PNG, WebP)", send: "Gửi báo cáo",
      sending: "Đang gửi…", needPlace: "Hãy chọn vị trí trên bản đồ.", photoTooLarge: "Ảnh quá lớn, tối đa",
      required: "bắt buộc", none: "—", staffLink: "Cán bộ: kiểm duyệt báo cáo", noKinds: "Chưa có lớp dữ liệu nào nhận báo cáo.",
      moderate: "Kiểm duyệt", modTitle: "Báo cáo chờ duyệt", apiKey: "Khóa API của cán bộ", save: "Lưu",
      forget: "Quên khóa", approve: "Duyệt", reject: "Từ chối", reason: "Lý do từ chối", note: "Ghi chú",
      extra: "Trường bổ sung (TRƯỜNG=GIÁ_TRỊ, mỗi dòng một trường)", showPlace: "Xem vị trí", empty: "Không có báo cáo chờ duyệt.",
      approved: "Đã duyệt: đối tượng", rejected: "Đã từ chối", keyHint: "Khóa được giữ trong thẻ trình duyệt này đến khi đóng thẻ.",
      yes: "Có", error: "Lỗi",
    },
    en: {
      report: "Report", title: "Send a report", intro: "Staff review your report before anything is published. Write no personal data.",
      kind: "Kind of report", place: "Place", pickHint: "Click the map to pick the place", picked: "Picked",
      locate: "My location", message: "More details", photo: "Photo (JPEG, PNG, WebP)", send: "Send report",
      sending: "Sending…", needPlace: "Pick the place on the map.", photoTooLarge: "The photo is too large; at most",
      required: "required", none: "—", staffLink: "Staff: review reports", noKinds: "No layer takes reports yet.",
      moderate: "Moderate", modTitle: "Reports awaiting review", apiKey: "Staff API key", save: "Save",
      forget: "Forget key", approve: "Approve", reject: "Reject", reason: "Reason for rejecting", note: "Note",
      extra: "Extra fields (FIELD=VALUE, one a line)", showPlace: "Show place", empty: "No reports awaiting review.",
      approved: "Approved: feature", rejected: "Rejected", keyHint: "The key is kept in this browser tab until it is closed.",
      yes: "Yes", error: "Error",
    },
  };
  const KEY = "spp.staffKey";
  const $ = (s) => document.querySelector(s);
  const lang = () => (document.documentElement.lang === "en" ? "en" : "vi");
  const t = (k) => T[lang()][k] ?? T.vi[k] ?? k;
  const L = (o) => (o ? o[lang()] || o.vi || "" : "");
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const R = { kinds: null, limits: {}, point: null, kind: null, mode: null, photoUrls: [] };
  window.sppReport = R;

  // -- the place marker ---------------------------------------------------------------------
  function marker(pt) {
    const map = window.sppMap;
    if (!map || !map.loaded()) return;
    const data = { type: "FeatureCollection", features: pt ? [{ type: "Feature", geometry: { type: "Point", coordinates: pt }, properties: {} }] : [] };
    if (!map.getSource("spp-report")) {
      map.addSource("spp-report", { type: "geojson", data });
      map.addLayer({ id: "spp-report", type: "circle", source: "spp-report",
        paint: { "circle-radius": 9, "circle-color": "#e67e22", "circle-stroke-color": "#fff", "circle-stroke-width": 3 } });
    } else map.getSource("spp-report").setData(data);
  }

  function openPanel() {
    $("#panel").hidden = false;
    window.sppMap && window.sppMap.resize();
    return $("#panel-body");
  }

  function stop() {
    R.mode = null;
    if (window.spp) window.spp.pick = null;
    marker(null);
    R.photoUrls.forEach((u) => URL.revokeObjectURL(u));
    R.photoUrls = [];
    $("#btn-report").classList.remove("active");
  }

  // -- the public's form --------------------------------------------------------------------
  async function kinds() {
    if (!R.kinds) {
      const r = await fetch("/submissions/kinds", { headers: { Accept: "application/json" } });
      const doc = r.ok ? await r.json() : { kinds: [], limits: {} };
      R.kinds = doc.kinds;
      R.limits = doc.limits || {};
    }
    return R.kinds;
  }

  function inputFor(f) {
    const name = `f-${f.name}`;
    const req = f.required ? " required" : "";
    if (f.codes) {
      return `<select name="${esc(name)}"${req}><option value="">${esc(t("none"))}</option>${f.codes.map((c) =>
        `<option value="${esc(c.code)}">${esc(c.code)} — ${esc(L(c))}</option>`).join("")}</select>`;
    }
    const type = { integer: "number", number: "number", date: "date", datetime: "datetime-local", boolean: "checkbox" }[f.type] || "text";
    const step = f.type === "integer" ? ' step="1"' : f.type === "number" ? ' step="any"' : "";
    const max = type === "text" ? ` maxlength="${Number(f.max_length) || 200}"` : "";
    const mode = f.type === "integer" ? ' inputmode="numeric"' : f.type === "number" ? ' inputmode="decimal"' : "";
    return `<input type="${type}" name="${esc(name)}"${step}${max}${mode}${req}>`;
  }

  async function openReport() {
    if (R.mode === "report") { stop(); $("#panel").hidden = true; window.sppMap && window.sppMap.resize(); return; }
    stop();
    R.mode = "report";
    $("#btn-report").classList.add("active");
    const body = openPanel();
    body.innerHTML = `<p>…</p>`;
    const list = await kinds();
    if (R.mode !== "report") return;
    if (!R.kind || !list.some((k) => k.kind === R.kind)) R.kind = list.length ? list[0].kind : null;
    renderForm();
    window.spp.pick = (pt) => { R.point = pt; marker(pt); showPlace(); };
  }

  function showPlace() {
    const el = $("#rp-place");
    if (!el) return;
    el.textContent = R.point ? `${t("picked")}: ${R.point[1].toFixed(6)}, ${R.point[0].toFixed(6)}` : t("pickHint");
    el.classList.toggle("picked", !!R.point);
  }

  function renderForm() {
    const body = $("#panel-body");
    const list = R.kinds || [];
    const k = list.find((x) => x.kind === R.kind);
    if (!k) { body.innerHTML = `<h2>${esc(t("title"))}</h2><p>${esc(t("noKinds"))}</p>`; return; }
    const maxText = Number(R.limits.text_max) || 1000;
    body.innerHTML = `<form id="report-form" class="report-form" novalidate>
      <h2>${esc(t("title"))}</h2>
      <p class="muted">${esc(t("intro"))}</p>
      <label>${esc(t("kind"))}<select id="rp-kind">${list.map((x) =>
        `<option value="${esc(x.kind)}"${x.kind === k.kind ? " selected" : ""}>${esc(L(x.title))} (${esc(L(x.layer_title))})</option>`).join("")}</select></label>
      ${k.description ? `<p class="muted">${esc(L(k.description))}</p>` : ""}
      <div class="place"><span>${esc(t("place"))}:</span> <b id="rp-place" data-testid="report-place"></b>
        <button type="button" id="rp-locate">${esc(t("locate"))}</button></div>
      ${k.fields.map((f) => `<label data-field="${esc(f.name)}">${esc(L(f.label))}${f.required ? ` <span class="req">(${esc(t("required"))})</span>` : ""}${inputFor(f)}</label>`).join("")}
      <label data-field="message">${esc(t("message"))}<textarea name="message" rows="3" maxlength="${maxText}"></textarea></label>
      ${k.photo ? `<label data-field="photo">${esc(t("photo"))}<input type="file" name="photo" accept="image/jpeg,image/png,image/webp" capture="environment"></label>` : ""}
      <button type="submit" class="primary" id="rp-send">${esc(t("send"))}</button>
      <div id="rp-result" role="status" data-testid="report-result"></div>
      <p><a href="#" id="rp-staff">${esc(t("staffLink"))}</a></p>
    </form>`;
    showPlace();
    const dt = body.querySelector('input[type="datetime-local"]');
    if (dt && !dt.value) { const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); dt.value = d.toISOString().slice(0, 16); }
    $("#rp-kind").onchange = (e) => { R.kind = e.target.value; renderForm(); };
    $("#rp-locate").onclick = () => {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition((p) => {
        R.point = [p.coords.longitude, p.coords.latitude];
        marker(R.point);
        showPlace();
        window.sppMap.flyTo({ center: R.point, zoom: Math.max(window.sppMap.getZoom(), 17) });
      });
    };
    $("#rp-staff").onclick = (e) => { e.preventDefault(); openModeration(); };
    $("#report-form").onsubmit = (e) => { e.preventDefault(); send(k); };
  }

  function result(ok, text, field) {
    const el = $("#rp-result");
    el.className = ok ? "ok" : "err";
    el.textContent = text;
    document.querySelectorAll(".report-form [data-field]").forEach((x) => x.classList.toggle("bad", x.dataset.field === field));
  }

  async function send(k) {
    if (!R.point) { result(false, t("needPlace"), "point"); return; }
    const form = $("#report-form");
    const props = {};
    for (const f of k.fields) {
      const el = form.elements[`f-${f.name}`];
      if (!el) continue;
      if (f.type === "boolean") { if (el.checked) props[f.name] = true; continue; }
      if (el.value.trim() !== "") props[f.name] = el.value.trim();
    }
    const fd = new FormData();
    fd.append("layer", k.layer);
    fd.append("kind", k.kind);
    fd.append("lon", String(R.point[0]));
    fd.append("lat", String(R.point[1]));
    fd.append("properties", JSON.stringify(props));
    fd.append("message", form.elements.message.value);
    fd.append("lang", lang());
    const file = form.elements.photo && form.elements.photo.files[0];
    if (file) {
      if (R.limits.photo_bytes && file.size > R.limits.photo_bytes) {
        result(false, `${t("photoTooLarge")} ${(R.limits.photo_bytes / 1e6).toFixed(0)} MB`, "photo");
        return;
      }
      fd.append("photo", file);
    }
    $("#rp-send").disabled = true;
    result(true, t("sending"));
    try {
      const r = await fetch("/submissions", { method: "POST", body: fd, headers: { Accept: "application/json" } });
      let doc = {};
      try { doc = await r.json(); } catch (e) { /* not JSON */ }
      if (r.ok) {
        result(true, L(doc.message) || `#${doc.id}`);
        $("#report-form").dataset.sent = String(doc.id);
        form.reset();
        R.point = null;
        marker(null);
        showPlace();
      } else {
        result(false, (lang() === "vi" && doc.description_vi) || doc.description || `${t("error")} ${r.status}`, doc.field);
      }
    } catch (e) {
      result(false, `${t("error")}: ${e.message}`);
    } finally {
      const b = $("#rp-send");
      if (b) b.disabled = false;
    }
  }

  // -- staff: the moderation list ------------------------------------------------------------
  const staffKey = () => sessionStorage.getItem(KEY);
  async function staffFetch(path, opts = {}) {
    const r = await fetch(path, { ...opts, headers: { Accept: "application/json", "X-API-Key": staffKey(), ...(opts.headers || {}) } });
    if (r.status === 401) { sessionStorage.removeItem(KEY); $("#btn-moderate").hidden = true; }
    return r;
  }

  async function openModeration() {
    stop();
    R.mode = "moderate";
    const body = openPanel();
    if (!staffKey()) {
      body.innerHTML = `<form id="mod-key" class="report-form"><h2>${esc(t("modTitle"))}</h2>
        <label>${esc(t("apiKey"))}<input type="password" name="key" autocomplete="off" required></label>
        <p class="muted">${esc(t("keyHint"))}</p><button type="submit" class="primary">${esc(t("save"))}</button>
        <div id="mod-result" role="status"></div></form>`;
      $("#mod-key").onsubmit = (e) => {
        e.preventDefault();
        const v = e.target.elements.key.value.trim();
        if (!v) return;
        sessionStorage.setItem(KEY, v);
        $("#btn-moderate").hidden = false;
        openModeration();
      };
      return;
    }
    body.innerHTML = `<p>…</p>`;
    const r = await staffFetch("/submissions?status=pending");
    let doc = {};
    try { doc = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) {
      body.innerHTML = `<h2>${esc(t("modTitle"))}</h2><p class="err">${esc((lang() === "vi" && doc.description_vi) || doc.description || r.status)}</p>`;
      if (r.status === 401) setTimeout(openModeration, 1500);
      return;
    }
    renderQueue(doc.submissions || []);
  }

  function renderQueue(rows) {
    const body = $("#panel-body");
    body.innerHTML = `<h2>${esc(t("modTitle"))}</h2><div class="actions"><button type="button" id="mod-forget">${esc(t("forget"))}</button></div>
      <div id="mod-list" data-testid="moderation-list"></div>`;
    $("#mod-forget").onclick = () => { sessionStorage.removeItem(KEY); $("#btn-moderate").hidden = true; openModeration(); };
    const list = $("#mod-list");
    if (!rows.length) { list.textContent = t("empty"); return; }
    for (const s of rows) list.appendChild(card(s));
  }

  function card(s) {
    const kind = (R.kinds || []).find((k) => k.kind === s.kind && k.layer === s.layer_id);
    const div = document.createElement("div");
    div.className = "zone submission";
    div.dataset.submission = s.id;
    const h = document.createElement("b");
    h.textContent = `#${s.id} ${kind ? L(kind.title) : s.kind} · ${s.layer_id}`;
    const when = document.createElement("div");
    when.className = "muted";
    when.textContent = new Date(s.created_at).toLocaleString(lang() === "vi" ? "vi-VN" : "en-GB");
    div.append(h, when);
    const table = document.createElement("table");
    for (const [k, v] of Object.entries(s.properties || {})) {
      const f = kind && kind.fields.find((x) => x.name === k);
      const tr = table.insertRow();
      const th = document.createElement("th");
      th.textContent = f ? L(f.label) : k;
      tr.appendChild(th);
      tr.insertCell().textContent = String(v);
    }
    div.appendChild(table);
    if (s.message) {
      const p = document.createElement("p");
      p.className = "message";
      p.textContent = s.message; // the public's text: text, never HTML
      div.appendChild(p);
    }
    if (s.has_photo) {
      const img = document.createElement("img");
      img.className = "photo";
      img.alt = t("photo");
      staffFetch(`/submissions/${s.id}/photo`, { headers: { Accept: "image/*" } }).then(async (r) => {
        if (!r.ok) return;
        const url = URL.createObjectURL(await r.blob());
        R.photoUrls.push(url);
        img.src = url;
      });
      div.appendChild(img);
    }
    const form = document.createElement("form");
    form.className = "decide";
    form.innerHTML = `<label>${esc(t("note"))} / ${esc(t("reason"))}<input name="text" maxlength="1000"></label>
      <label>${esc(t("extra"))}<textarea name="extra" rows="2"></textarea></label>
      <div class="actions"><button type="button" data-act="show">${esc(t("showPlace"))}</button>
      <button type="button" data-act="approve" class="primary">${esc(t("approve"))}</button>
      <button type="button" data-act="reject">${esc(t("reject"))}</button></div><div class="out" role="status"></div>`;
    form.addEventListener("click", async (e) => {
      const act = e.target.dataset && e.target.dataset.act;
      if (!act) return;
      const out = form.querySelector(".out");
      if (act === "show") { marker([s.lon, s.lat]); window.sppMap.flyTo({ center: [s.lon, s.lat], zoom: 18 }); return; }
      const text = form.elements.text.value.trim();
      let payload;
      if (act === "reject") {
        if (!text) { out.textContent = t("reason"); form.elements.text.focus(); return; }
        payload = { reason: text };
      } else {
        const props = {};
        for (const line of form.elements.extra.value.split("\n")) {
          const i = line.indexOf("=");
          if (i > 0) props[line.slice(0, i).trim()] = line.slice(i + 1).trim();
        }
        payload = { note: text || null, properties: props };
      }
      const r = await staffFetch(`/submissions/${s.id}/${act}`, { method: "POST", body: JSON.stringify(payload), headers: { "Content-Type": "application/json" } });
      let doc = {};
      try { doc = await r.json(); } catch (err) { /* not JSON */ }
      if (r.ok) {
        div.dataset.status = doc.status;
        out.textContent = doc.status === "approved" ? `${t("approved")} ${doc.feature_id} (v${doc.layer_version})` : t("rejected");
        form.querySelectorAll("button[data-act=approve],button[data-act=reject]").forEach((b) => { b.disabled = true; });
      } else {
        out.textContent = (lang() === "vi" && doc.description_vi) || doc.description || `${t("error")} ${r.status}`;
      }
    });
    div.appendChild(form);
    return div;
  }

  // -- wiring ----------------------------------------------------------------------------------
  function labels() {
    $("#btn-report").textContent = t("report");
    $("#btn-moderate").textContent = t("moderate");
    if (R.mode === "report") renderForm();
    else if (R.mode === "moderate") openModeration();
  }

  function init() {
    $("#btn-report").onclick = () => openReport().catch((e) => console.error(e));
    $("#btn-moderate").onclick = () => { kinds().then(openModeration); };
    $("#btn-moderate").hidden = !staffKey();
    $("#panel-close").addEventListener("click", stop);
    document.addEventListener("spp:lang", labels);
    labels();
    if (/(^|[#&])moderate(&|$)/.test(location.hash)) kinds().then(openModeration);
  }

  R.open = openReport;
  R.moderate = () => kinds().then(openModeration);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
