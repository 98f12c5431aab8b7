/* Staff sign-in on the web map: OIDC authorization code with PKCE (S256, WebCrypto) at the
 * issuer /api/auth/config names, or an API key typed in. ONE credential store: sessionStorage
 * (gone with the tab). Every request to our own origin carries it as `Authorization: Bearer …`
 * (fetch here, tiles through MapLibre's transformRequest); nothing is added to outside URLs.
 * app.js waits for `sppAuth.ready` (an OIDC redirect being completed) before it reads the
 * collections; signing in or out reloads the page so the tree and tiles follow the credential. */
(function () {
  "use strict";
  const STORE = "spp.credential", PENDING = "spp.oidc.pending";
  const T = {
    vi: { signIn: "Đăng nhập", signOut: "Đăng xuất", oidc: "Đăng nhập một lần (tài khoản cơ quan)",
      key: "Khóa API của cán bộ", save: "Lưu", expired: "Phiên đăng nhập đã hết hạn, hãy đăng nhập lại",
      failed: "Đăng nhập không thành công", title: "Đăng nhập cán bộ" },
    en: { signIn: "Sign in", signOut: "Sign out", oidc: "Single sign-on (organisation account)",
      key: "Staff API key", save: "Save", expired: "Your session expired, please sign in again",
      failed: "Sign-in failed", title: "Staff sign-in" },
  };
  const lang = () => (document.documentElement.lang === "en" ? "en" : "vi");
  const t = (k) => T[lang()][k];
  const $ = (s) => document.querySelector(s);
  const origFetch = window.fetch.bind(window);
  const ours = (url) => { try { return new URL(url, location.href).origin === location.origin; } catch (e) { return false; } };

  const read = () => { try { return JSON.parse(sessionStorage.getItem(STORE)); } catch (e) { return null; } };
  const write = (c) => (c ? sessionStorage.setItem(STORE, JSON.stringify(c)) : sessionStorage.removeItem(STORE));
  const token = () => { const c = read(); return c && (!c.exp || c.exp > Date.now()) ? c.token : null; };

  // -- PKCE (RFC 7636) ------------------------------------------------------------------------
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const random = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));
  const challenge = async (v) => b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(v)));
  const claims = (jwt) => { try { return JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))); } catch (e) { return {}; } };

  let config = null;
  async function getConfig() {
    if (!config) config = await (await origFetch("/api/auth/config", { headers: { Accept: "application/json" } })).json();
    return config;
  }
  async function discovery(issuer) {
    const r = await origFetch(issuer.replace(/\/$/, "") + "/.well-known/openid-configuration", { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(`discovery ${r.status}`);
    return r.json();
  }
  const redirectUri = () => location.origin + "/";

  async function startOidc() {
    const cfg = (await getConfig()).oidc;
    const meta = await discovery(cfg.issuer);
    const verifier = random(48), state = random(), nonce = random();
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, back: location.hash }));
    const q = new URLSearchParams({ response_type: "code", client_id: cfg.client_id, redirect_uri: redirectUri(),
      scope: cfg.scopes, state, nonce, code_challenge: await challenge(verifier), code_challenge_method: "S256" });
    location.assign(`${meta.authorization_endpoint}?${q}`);
  }

  async function tokenRequest(body) {
    const cfg = (await getConfig()).oidc;
    const meta = await discovery(cfg.issuer);
    const r = await origFetch(meta.token_endpoint, { method: "POST", body: new URLSearchParams({ client_id: cfg.client_id, ...body }),
      headers: { Accept: "application/json" } });
    const doc = await r.json().catch(() => ({}));
    if (!r.ok || !doc.access_token) throw new Error(doc.error_description || doc.error || `token ${r.status}`);
    const c = claims(doc.access_token);
    write({ kind: "oidc", token: doc.access_token, refresh: doc.refresh_token || null,
      exp: Date.now() + 1000 * (doc.expires_in || (c.exp ? c.exp - Date.now() / 1000 : 300)),
      name: c.preferred_username || c.name || c.email || c.sub || "" });
    schedule();
  }

  async function finishOidc(p) { // back from the issuer with ?code=…&state=…
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    history.replaceState(null, "", location.pathname + (pending ? pending.back : location.hash));
    if (!pending || p.get("state") !== pending.state) throw new Error("state mismatch");
    if (p.get("error")) throw new Error(p.get("error_description") || p.get("error"));
    await tokenRequest({ grant_type: "authorization_code", code: p.get("code"), redirect_uri: redirectUri(), code_verifier: pending.verifier });
  }

  let timer;
  function schedule() { // refresh shortly before expiry; without a refresh token, ask again
    clearTimeout(timer);
    const c = read();
    if (!c || c.kind !== "oidc") return;
    timer = setTimeout(async () => {
      try {
        if (!c.refresh) throw new Error("no refresh token");
        await tokenRequest({ grant_type: "refresh_token", refresh_token: c.refresh });
      } catch (e) { expired(); }
    }, Math.max(0, c.exp - Date.now() - 30000));
  }

  function expired() { write(null); render(); note(t("expired")); }
  function note(msg) { const el = $("#status"); if (el) { el.textContent = msg; el.classList.add("show"); } }

  async function ready() {
    const p = new URLSearchParams(location.search);
    if (p.has("state") && (p.has("code") || p.has("error"))) {
      try { await finishOidc(p); } catch (e) { console.warn("sign-in", e); write(null); setTimeout(() => note(`${t("failed")}: ${e.message}`), 500); }
    } else if (read() && !token()) { // expired while away: refresh once, else ask again
      const c = read();
      try { if (c.kind !== "oidc" || !c.refresh) throw new Error("expired"); await tokenRequest({ grant_type: "refresh_token", refresh_token: c.refresh }); } catch (e) { expired(); }
    } else schedule();
  }

  // -- every request to our origin carries the credential ----------------------------------------
  window.fetch = async function (input, init = {}) {
    const url = typeof input === "string" || input instanceof URL ? String(input) : input.url;
    const tok = token();
    if (!tok || !ours(url)) return origFetch(input, init);
    const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
    if (!headers.has("Authorization") && !headers.has("X-API-Key")) headers.set("Authorization", `Bearer ${tok}`);
    const r = await origFetch(input, { ...init, headers });
    if (r.status === 401 && headers.get("Authorization") === `Bearer ${tok}`) expired();
    return r;
  };
  // links to our API (exports, the printable page) cannot send a header: fetch them with it
  document.addEventListener("click", async (e) => {
    const a = e.target.closest && e.target.closest("a[href]");
    const tok = token();
    if (!a || !tok || e.defaultPrevented || e.button !== 0 || !ours(a.href) || !/^\/(api|ogc)\//.test(new URL(a.href).pathname)) return;
    e.preventDefault();
    const w = a.target === "_blank" ? window.open("", "_blank") : null; // opened in the click: not blocked
    try {
      const r = await window.fetch(a.href);
      let blob = await r.blob();
      if (/html/.test(blob.type)) blob = new Blob([`<base href="${esc(a.href)}">`, blob], { type: blob.type }); // its links
      const href = URL.createObjectURL(blob);
      setTimeout(() => URL.revokeObjectURL(href), 60000);
      if (w) { w.location.href = href; return; }
      const d = document.createElement("a");
      d.href = href;
      d.download = (/filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "") || [])[1] || "download";
      d.click();
    } catch (err) { if (w) w.close(); note(`${t("failed")}: ${err.message}`); }
  }, true);
  const transformRequest = (url) => { const tok = token(); return tok && ours(url) ? { url, headers: { Authorization: `Bearer ${tok}` } } : { url }; };

  // -- the button and its box -------------------------------------------------------------------
  function render() {
    const b = $("#btn-signin");
    if (!b) return;
    const c = token() && read();
    b.textContent = c ? `${c.name || (c.kind === "key" ? "API" : "")} ▾` : t("signIn");
    b.title = c ? t("signOut") : t("title");
    b.classList.toggle("signed-in", !!c);
    b.setAttribute("aria-expanded", String(!$("#signin-box").hidden));
    renderBox();
  }
  function renderBox() {
    const box = $("#signin-box");
    if (box.hidden) return;
    const c = token() && read();
    if (c) {
      box.innerHTML = `<div class="muted">${esc(c.name || "API")}</div><button type="button" id="signin-out">${esc(t("signOut"))}</button>`;
      $("#signin-out").onclick = () => sppAuth.signOut();
      return;
    }
    box.innerHTML = `<h2>${esc(t("title"))}</h2>
      ${config && config.oidc ? `<button type="button" id="signin-oidc" class="primary">${esc(t("oidc"))}</button>` : ""}
      <form id="signin-key"><label>${esc(t("key"))}<input type="password" name="key" autocomplete="off" required></label>
      <button type="submit">${esc(t("save"))}</button></form>`;
    if ($("#signin-oidc")) $("#signin-oidc").onclick = () => startOidc().catch((e) => note(`${t("failed")}: ${e.message}`));
    $("#signin-key").onsubmit = (e) => {
      e.preventDefault();
      const v = e.target.elements.key.value.trim();
      if (v) { sppAuth.setKey(v); location.reload(); }
    };
  }
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch]));

  function setup() {
    const b = $("#btn-signin"), box = $("#signin-box");
    if (!b || !box) return;
    b.onclick = async () => { box.hidden = !box.hidden; await getConfig().catch(() => null); render(); };
    document.addEventListener("spp:lang", render);
    render();
  }

  window.sppAuth = {
    ready: ready().finally(() => (document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", setup) : setup())),
    token, transformRequest,
    setKey: (k) => write({ kind: "key", token: k, name: "" }),
    forget: () => { write(null); render(); },
    signOut: () => { write(null); location.reload(); },
  };
})();
