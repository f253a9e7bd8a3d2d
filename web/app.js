// Bazaar storefront: one ES module, no build step. Hash routes (#/search, #/product/ID, #/cart …)
// over the HTTP API of api/openapi.yaml. Configuration comes from config.json beside this file:
//   {"auth": "local", "api_base": ""}   the local stack (the gateway serves it; tokens from POST /_local/token)
//   {"auth": "cognito", "api_base": "https://…", "cognito_domain": "https://….auth.….amazoncognito.com",
//    "client_id": "…"}                  AWS (Cognito hosted UI, authorization code with PKCE)
// `?api=URL` in the page's address overrides api_base (for pointing one page at another API).

const $ = (sel, root = document) => root.querySelector(sel);
const main = () => $('#main');
const money = (cents) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format((cents ?? 0) / 100);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const when = (t) => (t ? new Date(t).toLocaleString() : '');
const enc = encodeURIComponent;

let config = { auth: 'local', api_base: '' };
let session = null; // {user, token, exp}
let timers = [];

// ------------------------------------------------------------------ API

class NetworkError extends Error {}

async function api(method, path, { body, headers = {}, auth = true } = {}) {
  const h = { ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (auth && session) h.authorization = `Bearer ${session.token}`;
  let res;
  try {
    res = await fetch(config.api_base + path, { method, headers: h, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)) });
  } catch (e) {
    throw new NetworkError(`The network request failed (${e.message}).`);
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (res.status === 401 && auth && session) {
    signOut(false);
    flash('Your session ended: sign in again.', 'warn');
  }
  return { status: res.status, ok: res.ok, data, headers: res.headers };
}

const problem = (r) => (r.data && (r.data.detail || r.data.message || r.data.title)) || `HTTP ${r.status}`;

async function must(method, path, opts) {
  const r = await api(method, path, opts);
  if (!r.ok) throw Object.assign(new Error(problem(r)), { response: r });
  return r.data;
}

// ------------------------------------------------------------------ session

const SESSION_KEY = 'bazaar.session';

function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    if (s && s.exp * 1000 > Date.now()) session = s;
  } catch { session = null; }
}

function saveSession(user, token, expiresIn) {
  session = { user, token, exp: Math.floor(Date.now() / 1000) + expiresIn };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

function signOut(rerender = true) {
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
  renderSession();
  if (rerender) route();
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function claims(token) {
  try { return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))); } catch { return {}; }
}

const redirectUri = () => location.origin + location.pathname;

async function cognitoSignIn() {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem('bazaar.pkce', JSON.stringify({ verifier, state, hash: location.hash }));
  const q = new URLSearchParams({ response_type: 'code', client_id: config.client_id, redirect_uri: redirectUri(), scope: 'openid email profile', code_challenge_method: 'S256', code_challenge: challenge, state });
  location.assign(`${config.cognito_domain}/oauth2/authorize?${q}`);
}

async function cognitoCallback() {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (!code) return;
  const saved = JSON.parse(sessionStorage.getItem('bazaar.pkce') || 'null');
  sessionStorage.removeItem('bazaar.pkce');
  history.replaceState(null, '', redirectUri() + (saved?.hash || ''));
  if (!saved || saved.state !== params.get('state')) { flash('Sign-in failed: the answer did not match this page’s request.', 'bad'); return; }
  const res = await fetch(`${config.cognito_domain}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.client_id, code, redirect_uri: redirectUri(), code_verifier: saved.verifier }),
  });
  if (!res.ok) { flash('Sign-in failed: the code could not be exchanged.', 'bad'); return; }
  const t = await res.json();
  const c = claims(t.id_token);
  saveSession(c.email || c.sub, t.id_token, t.expires_in || 3600);
}

async function localSignIn(user) {
  const r = await fetch('/_local/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { flash(`Sign-in failed: ${data.message || r.status}`, 'bad'); return; }
  saveSession(data.user, data.token, data.expires_in);
  renderSession();
  route();
}

function renderSession() {
  const el = $('#session');
  if (session) {
    el.innerHTML = `<span>Signed in as <strong id="who">${esc(session.user)}</strong></span> <button type="button" class="secondary" id="signout">Sign out</button>`;
    $('#signout').onclick = () => signOut();
    refreshCartCount();
  } else if (config.auth === 'cognito') {
    el.innerHTML = '<button type="button" id="signin">Sign in</button>';
    $('#signin').onclick = cognitoSignIn;
    $('#cart-count').textContent = '';
  } else {
    el.innerHTML = `<form id="picker" class="row"><label class="inline" for="user">User <input id="user" name="user" list="users" required maxlength="64" pattern="[A-Za-z0-9._\\-]+" value="alice" size="12"></label>
      <datalist id="users"><option value="alice"><option value="bob"><option value="seed-owner-000"><option value="seed-owner-001"></datalist>
      <button type="submit">Sign in</button></form>`;
    $('#picker').onsubmit = (e) => { e.preventDefault(); localSignIn($('#user').value.trim()); };
    $('#cart-count').textContent = '';
  }
}

async function refreshCartCount() {
  if (!session) return;
  try {
    const r = await api('GET', '/cart');
    if (r.ok) $('#cart-count').textContent = r.data.item_count ? `(${r.data.item_count})` : '';
  } catch { /* the count is a hint */ }
}

function needSignIn() {
  if (session) return false;
  main().innerHTML = `<h1>Sign in</h1><p>Sign in to use this page${config.auth === 'local' ? ' (pick a user at the top: locally any name is a user; seeded shops belong to seed-owner-000 … seed-owner-099)' : ''}.</p>`;
  return true;
}

// ------------------------------------------------------------------ page helpers

let flashedAt = 0;
function flash(text, kind = 'ok') {
  flashedAt = text ? Date.now() : 0;
  $('#flash').innerHTML = text ? `<div class="notice ${kind}">${esc(text)}</div>` : '';
}

function page(title, html) {
  main().innerHTML = `<h1>${esc(title)}</h1>${html}`;
  document.title = `${title} · Bazaar`;
}

function errorPage(e) {
  const msg = e instanceof NetworkError ? `${e.message} Check your connection and reload.` : e.message;
  page('Something went wrong', `<div class="notice bad">${esc(msg)}</div>`);
}

const hue = (s) => [...String(s)].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7);
const thumb = (p) => `<div class="thumb" aria-hidden="true" style="background:hsl(${hue(p.category || p.id)} 45% 38%)">${esc((p.title || '?')[0])}</div>`;
const shopName = (p) => p.shop_name ?? p.shop?.name ?? '';

function productCards(products) {
  if (!products?.length) return '<p class="muted">Nothing here yet.</p>';
  return `<ul class="grid">${products.map((p) => `<li class="card product-card" data-product-id="${esc(p.id)}" data-shop-id="${esc(p.shop_id)}">
    ${thumb(p)}<h3><a href="#/product/${enc(p.id)}">${esc(p.title)}</a></h3>
    <div class="price">${money(p.price_cents)}</div><div class="muted">${esc(shopName(p))}${p.is_vintage ? ' · vintage' : ''}</div></li>`).join('')}</ul>`;
}

function myShop() { return session ? localStorage.getItem(`bazaar.shop.${session.user}`) : null; }
function setMyShop(id) { localStorage.setItem(`bazaar.shop.${session.user}`, id); }
function myListings() { try { return JSON.parse(localStorage.getItem(`bazaar.listings.${session.user}`) || '[]'); } catch { return []; } }
function setMyListings(ids) { localStorage.setItem(`bazaar.listings.${session.user}`, JSON.stringify([...new Set(ids)].slice(-200))); }

// ------------------------------------------------------------------ buyer: home, search, product

async function home() {
  const feed = await must('GET', '/feed');
  page(feed.personalized ? 'For you' : 'Trending now', feed.sections.map((s) => `<section><h2>${esc(s.title)}</h2>${productCards(s.products)}</section>`).join('') || '<p>No products yet.</p>');
}

const SORTS = [['relevance', 'Best match'], ['newest', 'Newest'], ['price_asc', 'Price: low to high'], ['price_desc', 'Price: high to low']];

async function search(params) {
  const q = new URLSearchParams();
  for (const k of ['q', 'category', 'min_price_cents', 'max_price_cents', 'vintage', 'sort', 'page']) if (params.get(k)) q.set(k, params.get(k));
  q.set('page_size', '24');
  $('#q').value = params.get('q') || '';
  const r = await api('GET', `/search?${q}`, { auth: false });
  if (!r.ok) { page('Search', `<div class="notice bad">${esc(problem(r))}${r.data?.errors ? ': ' + esc(r.data.errors.map((e) => `${e.field} ${e.message}`).join('; ')) : ''}</div>`); return; }
  const d = r.data;
  const link = (changes) => { const n = new URLSearchParams(params); for (const [k, v] of Object.entries(changes)) { if (v === null) n.delete(k); else n.set(k, v); } if (!('page' in changes)) n.delete('page'); return `#/search?${n}`; };
  const pages = Math.max(1, Math.ceil(Math.min(d.total, 10000) / d.page_size));
  const cats = d.facets.categories.map((c) => `<li><a href="${link({ category: c.key })}" ${params.get('category') === c.key ? 'aria-current="true"' : ''}>${esc(c.key)}</a> <span class="muted">(${c.count})</span></li>`).join('');
  const prices = d.facets.price_ranges.map((p) => `<li>${p.count ? `<a href="${link({ min_price_cents: p.from_cents ?? null, max_price_cents: p.to_cents ?? null })}">${esc(p.key)}</a>` : esc(p.key)} <span class="muted">(${p.count})</span></li>`).join('');
  const active = [...params].filter(([k]) => ['category', 'min_price_cents', 'max_price_cents', 'vintage'].includes(k));
  page(params.get('q') ? `Results for “${params.get('q')}”` : 'Browse', `
    ${d.degraded ? '<div class="notice warn" id="degraded">Search is running in a reduced mode right now: results come straight from the catalog without text matching (pick a category to browse). Try again shortly for full search.</div>' : ''}
    <form id="filters" class="row" aria-label="Sort and filter">
      <label>Sort <select name="sort">${SORTS.map(([v, t]) => `<option value="${v}" ${(params.get('sort') || 'relevance') === v ? 'selected' : ''}>${t}</option>`).join('')}</select></label>
      <label>Vintage <select name="vintage"><option value="">Any</option><option value="true" ${params.get('vintage') === 'true' ? 'selected' : ''}>Vintage only</option><option value="false" ${params.get('vintage') === 'false' ? 'selected' : ''}>Not vintage</option></select></label>
      <label>Min price ($) <input name="min" type="number" min="0" step="0.01" inputmode="decimal" value="${params.get('min_price_cents') ? params.get('min_price_cents') / 100 : ''}"></label>
      <label>Max price ($) <input name="max" type="number" min="0" step="0.01" inputmode="decimal" value="${params.get('max_price_cents') ? params.get('max_price_cents') / 100 : ''}"></label>
      <div><button type="submit">Apply</button></div>
    </form>
    ${active.length ? `<p>Filters: ${active.map(([k, v]) => `<a href="${link({ [k]: null })}" aria-label="Remove filter ${esc(k)}">${esc(k)} = ${esc(v)} ✕</a>`).join(' · ')}</p>` : ''}
    <div class="layout"><aside class="facets" aria-label="Facets"><h2>Category</h2><ul>${cats || '<li class="muted">none</li>'}</ul><h2>Price</h2><ul>${prices}</ul></aside>
    <section class="results" aria-label="Results"><p id="result-count">${d.total} product${d.total === 1 ? '' : 's'}${d.degraded ? ' (reduced mode)' : ''}</p>${productCards(d.products)}
    <div class="pager">${d.page > 1 ? `<a href="${link({ page: d.page - 1 })}" rel="prev">← Previous</a>` : ''}<span>Page ${d.page} of ${pages}</span>${d.page < pages ? `<a href="${link({ page: d.page + 1 })}" rel="next">Next →</a>` : ''}</div></section></div>`);
  $('#filters').onsubmit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const cents = (v) => (v === '' ? null : String(Math.round(Number(v) * 100)));
    location.hash = link({ sort: f.get('sort') === 'relevance' ? null : f.get('sort'), vintage: f.get('vintage') || null, min_price_cents: cents(f.get('min')), max_price_cents: cents(f.get('max')) });
  };
}

async function product(id) {
  const r = await api('GET', `/products/${enc(id)}`);
  if (r.status === 404) { page('Not found', '<p>This product no longer exists. <a href="#/search">Browse others</a>.</p>'); return; }
  if (!r.ok) throw new Error(problem(r));
  const p = r.data;
  const [recs, favs] = await Promise.all([
    api('GET', `/products/${enc(id)}/recommendations`, { auth: false }).catch(() => null),
    session ? api('GET', '/favorites').catch(() => null) : null,
  ]);
  let fav = !!favs?.data?.products?.some((f) => f.id === p.id);
  let favShop = !!favs?.data?.shops?.some((f) => f.id === p.shop_id);
  const held = p.quantity - p.available;
  const owner = myShop() === p.shop_id;
  page(p.title, `
    <div class="layout"><div style="flex:0 0 220px">${thumb(p)}</div><div style="flex:1 1 300px">
      <p class="price" id="price">${money(p.price_cents)}</p>
      <p>Sold by <strong>${esc(p.shop.name)}</strong>${p.shop.rating ? ` · ★ ${p.shop.rating}` : ''} · ${esc(p.category)}${p.is_vintage ? ' · vintage' : ''}</p>
      <p id="availability">${p.available > 0 ? `<strong>${p.available}</strong> available` : '<strong class="hold gone">Sold out right now</strong>'} of ${p.quantity} in stock${held > 0 ? ` · ${held} held in other shoppers’ carts` : ''}</p>
      <p id="held-until"></p>
      <p>${esc(p.description)}</p>
      ${p.tags.length ? `<p class="muted">Tags: ${p.tags.map(esc).join(', ')}</p>` : ''}
      <form id="add" class="row"><label>Quantity <input id="qty" name="quantity" type="number" min="1" max="40" value="1" required></label>
        <div><button type="submit" id="add-to-cart" ${p.available > 0 ? '' : 'disabled'}>Add to cart</button></div>
        <div><button type="button" class="secondary" id="fav" aria-pressed="${fav}">${fav ? '♥ Favorited' : '♡ Favorite'}</button></div>
        <div><button type="button" class="secondary" id="fav-shop" aria-pressed="${favShop}">${favShop ? '♥ Shop favorited' : '♡ Favorite the shop'}</button></div></form>
      ${owner ? `<p><a href="#/sell/product/${enc(p.id)}">Edit this listing</a></p>` : ''}
    </div></div>
    <section><h2>Customers also bought</h2><div id="recs">${productCards(recs?.ok ? recs.data.products : [])}</div></section>`);
  $('#add').onsubmit = async (e) => {
    e.preventDefault();
    if (!session) { flash('Sign in to add to your cart.', 'warn'); return; }
    const ar = await api('POST', '/cart/items', { body: { product_id: p.id, quantity: Number($('#qty').value) } });
    if (ar.ok) { flash(`Added “${p.title}” to your cart: held for you for a while.`); refreshCartCount(); return; }
    if (ar.data?.code === 'unavailable') {
      flash(`Only ${ar.data.available} can be had right now.${ar.data.held_until ? ` Other shoppers hold the rest until ${when(ar.data.held_until)}; try again after that.` : ''}`, 'warn');
      if (ar.data.held_until) $('#held-until').textContent = `Held by other shoppers until ${when(ar.data.held_until)}.`;
    } else if (ar.data?.code === 'hold_cooldown') {
      flash(`You have held this item for as long as one buyer may without checking out. You can hold it again at ${when(ar.data.hold_again_at)}.`, 'warn');
    } else if (ar.data?.code === 'own_listing') {
      flash('This is your own listing: sellers cannot buy from their own shop.', 'warn');
    } else flash(problem(ar), 'bad');
  };
  $('#fav').onclick = async () => {
    if (!session) { flash('Sign in to keep favorites.', 'warn'); return; }
    const fr = await api(fav ? 'DELETE' : 'PUT', `/favorites/products/${enc(p.id)}`);
    if (!fr.ok) { flash(problem(fr), 'bad'); return; }
    fav = !fav;
    $('#fav').setAttribute('aria-pressed', String(fav));
    $('#fav').textContent = fav ? '♥ Favorited' : '♡ Favorite';
  };
  $('#fav-shop').onclick = async () => {
    if (!session) { flash('Sign in to keep favorites.', 'warn'); return; }
    const fr = await api(favShop ? 'DELETE' : 'PUT', `/favorites/shops/${enc(p.shop_id)}`);
    if (!fr.ok) { flash(problem(fr), 'bad'); return; }
    favShop = !favShop;
    $('#fav-shop').setAttribute('aria-pressed', String(favShop));
    $('#fav-shop').textContent = favShop ? '♥ Shop favorited' : '♡ Favorite the shop';
  };
}

async function favorites() {
  if (needSignIn()) return;
  const f = await must('GET', '/favorites');
  page('Favorites', `<h2>Products</h2>${productCards(f.products)}<h2>Shops</h2>${f.shops.length ? `<ul>${f.shops.map((s) => `<li>${esc(s.name)}${s.rating ? ` · ★ ${s.rating}` : ''}</li>`).join('')}</ul>` : '<p class="muted">No favorite shops.</p>'}`);
}

// ------------------------------------------------------------------ cart and checkout

// One checkout attempt: its Idempotency-Key and the exact body sent. A retry after a network
// error or a 409 checkout_in_progress re-sends both; any definite answer ends the attempt.
let attempt = null;

function holdState(line) {
  if (line.available === 0) return ['gone', 'Gone: no longer available. Remove it from your cart.'];
  if (line.available < line.quantity) return ['lapsed', `Only ${line.available} can be had now: lower the quantity.`];
  if (!line.held || !line.hold_expires_at) return ['lapsed', 'Hold lapsed: not reserved any more. Checkout will check it again.'];
  const left = Math.round((new Date(line.hold_expires_at) - Date.now()) / 1000);
  if (left <= 0) return ['lapsed', 'Hold lapsed: not reserved any more. Checkout will check it again.'];
  return ['held', `Held for you for ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`];
}

async function cart() {
  if (needSignIn()) return;
  const c = await must('GET', '/cart');
  $('#cart-count').textContent = c.item_count ? `(${c.item_count})` : '';
  if (!c.shops.length) { page('Your cart', '<p>Your cart is empty. <a href="#/search">Find something</a>.</p>'); return; }
  page('Your cart', `${c.shops.map((s) => `<section class="shop-group" data-shop-id="${esc(s.shop_id)}" aria-label="From ${esc(s.shop_name)}"><h2>From ${esc(s.shop_name)}</h2>
    ${s.items.map((l) => `<div class="line" data-product-id="${esc(l.product_id)}">
      <span class="title"><a href="#/product/${enc(l.product_id)}">${esc(l.title)}</a><br><span class="muted">${money(l.price_cents)} each</span></span>
      <label class="inline">Qty <input class="line-qty" type="number" min="1" max="40" value="${l.quantity}" aria-label="Quantity of ${esc(l.title)}"></label>
      <span class="hold" data-expires="${esc(l.hold_expires_at || '')}" role="timer" aria-live="off"></span>
      <button type="button" class="secondary remove">Remove</button></div>`).join('')}
    <p>Subtotal ${money(s.subtotal_cents)} · Shipping <span class="shipping">${money(s.shipping_cents)}</span></p></section>`).join('')}
    <p class="price" id="total">Total ${money(c.total_cents)} (${c.item_count} item${c.item_count === 1 ? '' : 's'})</p>
    <form id="checkout" aria-label="Checkout"><h2>Checkout</h2>
      <div class="row"><label>Full name <input name="name" required maxlength="200" autocomplete="name" value="${esc(session.user)}"></label>
      <label>Address <input name="line1" required maxlength="200" autocomplete="address-line1" value="1 Main Street"></label>
      <label>City <input name="city" required maxlength="100" autocomplete="address-level2" value="Springfield"></label>
      <label>Postal code <input name="postal_code" required maxlength="20" autocomplete="postal-code" value="12345"></label>
      <label>Country (2 letters) <input name="country" required pattern="[A-Za-z]{2}" maxlength="2" autocomplete="country" value="US"></label></div>
      <label for="pm">Payment method</label>
      <select id="pm" name="payment_method"><option value="pm_card_visa">Test Visa card (approves)</option><option value="pm_card_chargeDeclined">Test card that is declined (pm_card_chargeDeclined)</option><option value="pm_card_chargeCustomerFail">Test card declined at charge (pm_card_chargeCustomerFail)</option></select>
      <div id="checkout-result" role="alert"></div>
      <p><button type="submit" id="place-order">Place order</button> <button type="button" class="secondary" id="retry" hidden>Retry the same attempt</button></p>
    </form>`);
  const lines = c.shops.flatMap((s) => s.items);
  const tick = () => {
    let lapsedNow = false;
    document.querySelectorAll('.line').forEach((el, i) => {
      const [state, text] = holdState(lines[i]);
      const h = $('.hold', el);
      if (h.classList.contains('held') && state !== 'held') lapsedNow = true;
      h.className = `hold ${state}`;
      h.textContent = text;
    });
    if (lapsedNow) setTimeout(() => { if (location.hash === '#/cart') route(); }, 1000);
  };
  tick();
  timers.push(setInterval(tick, 1000));
  document.querySelectorAll('.line').forEach((el, i) => {
    const id = lines[i].product_id;
    $('.remove', el).onclick = async () => { const r = await api('DELETE', `/cart/items/${enc(id)}`); if (!r.ok) flash(problem(r), 'bad'); route(); };
    $('.line-qty', el).onchange = async (e) => {
      const r = await api('PATCH', `/cart/items/${enc(id)}`, { body: { quantity: Number(e.target.value) } });
      if (!r.ok) flash(r.data?.code === 'unavailable' ? `Only ${r.data.available} can be had now${r.data.held_until ? `; others hold the rest until ${when(r.data.held_until)}` : ''}.` : problem(r), r.data?.code === 'unavailable' ? 'warn' : 'bad');
      route();
    };
  });
  $('#checkout').onsubmit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = JSON.stringify({ shipping_address: { name: f.get('name'), line1: f.get('line1'), city: f.get('city'), postal_code: f.get('postal_code'), country: String(f.get('country')).toUpperCase() }, payment_method: f.get('payment_method') });
    if (!attempt || attempt.body !== body) attempt = { key: crypto.randomUUID(), body };
    placeOrder();
  };
  $('#retry').onclick = placeOrder;
}

async function placeOrder() {
  const out = $('#checkout-result');
  const show = (kind, html) => { out.innerHTML = `<div class="notice ${kind}">${html}</div>`; };
  $('#place-order').disabled = true;
  $('#retry').hidden = true;
  show('ok', 'Placing your order…');
  let r;
  try {
    r = await api('POST', '/checkout', { body: attempt.body, headers: { 'idempotency-key': attempt.key } });
  } catch (e) {
    $('#place-order').disabled = false;
    $('#retry').hidden = false;
    show('bad', `${esc(e.message)} Your order may or may not have gone through: press <strong>Retry the same attempt</strong>; it cannot charge you twice.`);
    return;
  } finally { $('#place-order').disabled = false; }
  const code = r.data?.code;
  if (r.status === 201) {
    attempt = null;
    sessionStorage.setItem('bazaar.lastCheckout', JSON.stringify(r.data));
    refreshCartCount();
    location.hash = '#/checkout/done';
    return;
  }
  if (r.status === 409 && code === 'checkout_in_progress') {
    $('#retry').hidden = false;
    show('warn', `This order is still being placed. Wait ${esc(r.headers.get('retry-after') || 'a few')} seconds, then press <strong>Retry the same attempt</strong>.`);
    return;
  }
  if (r.status >= 500 || r.status === 429) {
    $('#retry').hidden = false;
    show('bad', `The marketplace could not answer (${r.status}). Press <strong>Retry the same attempt</strong> in a moment: it cannot charge you twice.`);
    return;
  }
  attempt = null;
  if (r.status === 402) {
    show('bad', `<strong id="declined">Payment declined.</strong> ${esc(problem(r))} Nothing was charged and your cart is unchanged: choose another payment method and place the order again.`);
  } else if (r.status === 409 && code === 'items_unavailable') {
    show('bad', `<strong>Some items can no longer be had.</strong> Nothing was charged. Lower their quantity or remove them, then place the order again:<ul>${(r.data.unavailable_items || []).map((i) => `<li>${esc(i.title)}: you asked for ${i.requested}, ${i.available} available</li>`).join('')}</ul>`);
  } else if (code === 'own_listing') {
    show('bad', '<strong>Your cart has your own listings.</strong> Sellers cannot buy from their own shop: remove those lines, then place the order again.');
  } else if (code === 'cart_empty') {
    show('warn', 'Your cart is empty.');
  } else {
    show('bad', esc(problem(r)) + (r.data?.errors ? `: ${esc(r.data.errors.map((x) => `${x.field} ${x.message}`).join('; '))}` : ''));
  }
}

function checkoutDone() {
  const d = JSON.parse(sessionStorage.getItem('bazaar.lastCheckout') || 'null');
  if (!d) { location.hash = '#/orders'; return; }
  page('Thank you! Your order is placed', `<p>${d.orders.length} order${d.orders.length === 1 ? '' : 's'} (one per shop), ${money(d.total_cents)} in all.</p>
    <ul>${d.orders.map((o) => `<li><a href="#/order/${enc(o.order_id)}">${esc(o.shop_name)}: ${money(o.total_cents)}</a></li>`).join('')}</ul><p><a href="#/orders">All your orders</a></p>`);
}

// ------------------------------------------------------------------ orders

function orderTable(orders, seller) {
  if (!orders.length) return '<p class="muted">No orders yet.</p>';
  return `<table><thead><tr><th>Date</th><th>${seller ? 'Buyer' : 'Shop'}</th><th>Items</th><th>Total</th><th>Status</th></tr></thead><tbody>${orders.map((o) => `<tr class="order-row" data-order-id="${esc(o.order_id)}">
    <td><a href="#/order/${enc(o.order_id)}">${esc(when(o.created_at))}</a></td><td>${esc(seller ? o.buyer_id : o.shop_name)}</td><td>${o.items.map((i) => `${esc(i.title)} × ${i.quantity}`).join('<br>')}</td><td>${money(o.total_cents)}</td><td class="status status-${esc(o.status)}">${esc(o.status)}</td></tr>`).join('')}</tbody></table>`;
}

async function orders() {
  if (needSignIn()) return;
  const d = await must('GET', '/orders');
  page('Your orders', orderTable(d.orders, false));
}

async function order(id) {
  if (needSignIn()) return;
  const r = await api('GET', `/orders/${enc(id)}`);
  if (r.status === 404) { page('Order not found', '<p>No such order of yours.</p>'); return; }
  if (!r.ok) throw new Error(problem(r));
  const o = r.data;
  const seller = myShop() === o.shop_id;
  const a = o.shipping_address;
  page(`Order from ${o.shop_name}`, `<p>Status: <strong class="status status-${esc(o.status)}" id="order-status">${esc(o.status)}</strong> · placed ${esc(when(o.created_at))}</p>
    ${o.shipment ? `<p>Shipped with ${esc(o.shipment.carrier)}, tracking <strong>${esc(o.shipment.tracking_number)}</strong></p>` : ''}
    <table><tbody>${o.items.map((i) => `<tr><td><a href="#/product/${enc(i.product_id)}">${esc(i.title)}</a></td><td>× ${i.quantity}</td><td>${money(i.price_cents * i.quantity)}</td></tr>`).join('')}
    <tr><td>Shipping</td><td></td><td>${money(o.shipping_cents)}</td></tr><tr><th>Total</th><td></td><th>${money(o.total_cents)}</th></tr></tbody></table>
    <p>Ship to: ${esc([a.name, a.line1, a.line2, a.city, a.region, a.postal_code, a.country].filter(Boolean).join(', '))}</p>
    ${seller && o.status === 'paid' ? shipForm(o) : ''}
    ${!seller && o.status === 'shipped' ? `<form id="review"><h2>Leave a review</h2><label for="rating">Rating</label><select id="rating" name="rating">${[5, 4, 3, 2, 1].map((n) => `<option value="${n}">${'★'.repeat(n)} (${n})</option>`).join('')}</select>
      <label for="comment">Comment</label><textarea id="comment" name="comment" maxlength="2000" rows="3"></textarea><p><button type="submit">Post review</button></p><div id="review-result" role="status"></div></form>` : ''}`);
  if (seller && o.status === 'paid') wireShip(o, () => route());
  const rf = $('#review');
  if (rf) rf.onsubmit = async (e) => {
    e.preventDefault();
    const rr = await api('POST', `/orders/${enc(o.order_id)}/review`, { body: { rating: Number($('#rating').value), comment: $('#comment').value } });
    $('#review-result').innerHTML = rr.ok ? '<div class="notice ok">Thanks: your review is posted.</div>' : `<div class="notice ${rr.status === 409 ? 'warn' : 'bad'}">${esc(rr.data?.code === 'already_reviewed' ? 'You already reviewed this order.' : problem(rr))}</div>`;
  };
}

function shipForm(o) {
  return `<form class="ship row" data-order-id="${esc(o.order_id)}" aria-label="Ship order"><label>Carrier <input name="carrier" required maxlength="100" value="USPS"></label>
    <label>Tracking number <input name="tracking_number" required maxlength="100"></label><div><button type="submit">Mark shipped</button></div><div><button type="button" class="danger cancel">Cancel order</button></div></form>`;
}

function wireShip(o, done) {
  const form = document.querySelector(`form.ship[data-order-id="${CSS.escape(o.order_id)}"]`);
  form.onsubmit = async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const r = await api('POST', `/orders/${enc(o.order_id)}/shipment`, { body: { carrier: f.get('carrier'), tracking_number: f.get('tracking_number') } });
    flash(r.ok ? 'Order marked shipped: the buyer is told.' : problem(r), r.ok ? 'ok' : 'bad');
    done();
  };
  $('.cancel', form).onclick = async () => {
    if (!confirm('Cancel this order? The buyer is refunded and the stock restored.')) return;
    const r = await api('POST', `/orders/${enc(o.order_id)}/cancel`);
    flash(r.ok ? 'Order cancelled: stock restored, buyer refunded.' : problem(r), r.ok ? 'ok' : 'bad');
    done();
  };
}

// ------------------------------------------------------------------ seller

const CATEGORIES = ['jewelry', 'bags-and-purses', 'home-decor', 'clothing', 'art', 'ceramics-and-pottery', 'candles', 'toys-and-games', 'paper-goods', 'woodworking', 'accessories', 'vintage-finds'];

function productForm(p = {}) {
  return `<label for="pf-title">Title</label><input id="pf-title" name="title" required maxlength="200" value="${esc(p.title)}">
    <label for="pf-description">Description</label><textarea id="pf-description" name="description" maxlength="5000" rows="3">${esc(p.description)}</textarea>
    <div class="row"><label>Price ($) <input name="price" type="number" required min="0.01" max="1000000" step="0.01" value="${p.price_cents ? p.price_cents / 100 : ''}"></label>
    <label>Quantity <input name="quantity" type="number" required min="0" max="10000" value="${p.quantity ?? 1}"></label>
    <label>Category <input name="category" required list="cats" pattern="[a-z0-9]+(-[a-z0-9]+)*" value="${esc(p.category || 'home-decor')}"></label></div>
    <datalist id="cats">${CATEGORIES.map((c) => `<option value="${c}">`).join('')}</datalist>
    <label for="pf-tags">Tags (comma separated, up to 13)</label><input id="pf-tags" name="tags" value="${esc((p.tags || []).join(', '))}">
    <label class="inline"><input type="checkbox" name="is_vintage" ${p.is_vintage ? 'checked' : ''}> Vintage</label>`;
}

function productBody(form) {
  const f = new FormData(form);
  return { title: f.get('title'), description: f.get('description'), price_cents: Math.round(Number(f.get('price')) * 100), quantity: Number(f.get('quantity')), category: f.get('category'), tags: String(f.get('tags')).split(',').map((t) => t.trim()).filter(Boolean), is_vintage: f.get('is_vintage') === 'on' };
}

async function sell() {
  if (needSignIn()) return;
  const shopId = myShop();
  if (!shopId) {
    page('Open your shop', `<form id="new-shop"><label for="shop-name">Shop name</label><input id="shop-name" name="name" required maxlength="100">
      <label for="shop-description">Description</label><textarea id="shop-description" name="description" maxlength="5000" rows="2"></textarea>
      <div class="row"><label>Shipping, first item ($) <input name="base" type="number" min="0" step="0.01" value="5.00" required></label><label>Each extra item ($) <input name="extra" type="number" min="0" step="0.01" value="1.50" required></label></div>
      <p><button type="submit">Open shop</button></p></form>
      <form id="have-shop"><h2>Already own a shop?</h2><label for="shop-id">Its shop id</label><input id="shop-id" name="id" required maxlength="100"><p><button type="submit" class="secondary">Use this shop</button></p></form>`);
    $('#new-shop').onsubmit = async (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      const r = await api('POST', '/shops', { body: { name: f.get('name'), description: f.get('description'), shipping: { base_cents: Math.round(f.get('base') * 100), per_extra_item_cents: Math.round(f.get('extra') * 100) } } });
      if (r.ok) { setMyShop(r.data.id); flash(`Your shop “${r.data.name}” is open.`); route(); return; }
      flash(r.data?.code === 'shop_exists' ? 'You already own a shop: enter its id below.' : r.data?.code === 'name_taken' ? 'That name is taken: pick another.' : problem(r), 'bad');
    };
    $('#have-shop').onsubmit = async (e) => {
      e.preventDefault();
      const id = new FormData(e.target).get('id').trim();
      const r = await api('GET', `/shops/${enc(id)}`);
      if (!r.ok) { flash('No shop with that id.', 'bad'); return; }
      if (r.data.owner_id !== claims(session.token).sub) { flash('That shop belongs to someone else.', 'bad'); return; }
      setMyShop(id);
      route();
    };
    return;
  }
  const [shop, ordersR] = await Promise.all([must('GET', `/shops/${enc(shopId)}`), api('GET', `/shops/${enc(shopId)}/orders`)]);
  const listings = (await Promise.all(myListings().map((id) => api('GET', `/products/${enc(id)}`)))).filter((r) => r.ok).map((r) => r.data);
  setMyListings(listings.map((p) => p.id));
  const os = ordersR.ok ? ordersR.data.orders : [];
  page(shop.name, `<p class="muted">Shop id <code id="my-shop-id">${esc(shop.id)}</code> · ${shop.sales_count} sold · ${shop.rating ? `★ ${shop.rating} (${shop.review_count})` : 'no reviews yet'} · shipping ${money(shop.shipping.base_cents)} + ${money(shop.shipping.per_extra_item_cents)} per extra item</p>
    <section><h2>Orders</h2>${orderTable(os, true)}${os.filter((o) => o.status === 'paid').map((o) => `<h3>Ship order ${esc(o.order_id.slice(-8))} to ${esc(o.buyer_id)}</h3>${shipForm(o)}`).join('')}</section>
    <section><h2>Your listings</h2>${listings.length ? `<table><tbody>${listings.map((p) => `<tr class="listing" data-product-id="${esc(p.id)}"><td><a href="#/product/${enc(p.id)}">${esc(p.title)}</a></td><td>${money(p.price_cents)}</td><td>${p.available} of ${p.quantity} available</td><td><a href="#/sell/product/${enc(p.id)}">Edit</a></td></tr>`).join('')}</tbody></table>` : '<p class="muted">No listings made on this device yet.</p>'}</section>
    <section><h2>New listing</h2><form id="new-product">${productForm()}<p><button type="submit">List it</button></p></form></section>`);
  os.filter((o) => o.status === 'paid').forEach((o) => wireShip(o, () => route()));
  $('#new-product').onsubmit = async (e) => {
    e.preventDefault();
    const r = await api('POST', `/shops/${enc(shopId)}/products`, { body: productBody(e.target) });
    if (!r.ok) { flash(problem(r) + (r.data?.errors ? `: ${r.data.errors.map((x) => `${x.field} ${x.message}`).join('; ')}` : ''), 'bad'); return; }
    setMyListings([...myListings(), r.data.id]);
    flash(`Listed “${r.data.title}”.`);
    route();
  };
}

async function editProduct(id) {
  if (needSignIn()) return;
  const p = await must('GET', `/products/${enc(id)}`);
  page(`Edit: ${p.title}`, `<form id="edit-product">${productForm(p)}<p><button type="submit">Save</button> <button type="button" class="danger" id="delete-product">Delete listing</button></p></form>`);
  $('#edit-product').onsubmit = async (e) => {
    e.preventDefault();
    const r = await api('PATCH', `/products/${enc(id)}`, { body: productBody(e.target) });
    flash(r.ok ? 'Saved.' : problem(r), r.ok ? 'ok' : 'bad');
    if (r.ok) location.hash = '#/sell';
  };
  $('#delete-product').onclick = async () => {
    if (!confirm('Delete this listing? Past orders keep their copy.')) return;
    const r = await api('DELETE', `/products/${enc(id)}`);
    flash(r.ok ? 'Listing deleted.' : problem(r), r.ok ? 'ok' : 'bad');
    if (r.ok) { setMyListings(myListings().filter((x) => x !== id)); location.hash = '#/sell'; }
  };
}

async function notifications() {
  if (needSignIn()) return;
  const d = await must('GET', '/notifications');
  page('Notifications', d.notifications.length ? `<ul id="notifications">${d.notifications.map((n) => `<li class="notification" data-kind="${esc(n.kind)}">${esc(n.message)} <span class="muted">${esc(when(n.created_at))}</span>${n.order_id ? ` · <a href="#/order/${enc(n.order_id)}">order</a>` : ''}</li>`).join('')}</ul>` : '<p class="muted">Nothing new.</p>');
}

// ------------------------------------------------------------------ router

const ROUTES = [
  [/^#?\/?$/, home],
  [/^#\/search(?:\?(.*))?$/, (m) => search(new URLSearchParams(m[1] || ''))],
  [/^#\/product\/([^/?]+)$/, (m) => product(decodeURIComponent(m[1]))],
  [/^#\/favorites$/, favorites],
  [/^#\/cart$/, cart],
  [/^#\/checkout\/done$/, checkoutDone],
  [/^#\/orders$/, orders],
  [/^#\/order\/([^/?]+)$/, (m) => order(decodeURIComponent(m[1]))],
  [/^#\/sell$/, sell],
  [/^#\/sell\/product\/([^/?]+)$/, (m) => editProduct(decodeURIComponent(m[1]))],
  [/^#\/notifications$/, notifications],
];

// Views run one at a time, in order: a view still loading when the address changes finishes
// first, and the newest address renders last.
let routing = Promise.resolve();
function route() {
  routing = routing.then(render, render);
  return routing;
}

async function render() {
  timers.forEach(clearInterval);
  timers = [];
  const hash = location.hash || '#/';
  document.querySelectorAll('nav a').forEach((a) => a.toggleAttribute('aria-current', a.getAttribute('href') === hash.split('?')[0]));
  const found = ROUTES.map(([re, view]) => [hash.match(re), view]).find(([m]) => m);
  main().setAttribute('aria-busy', 'true');
  try {
    if (found) await found[1](found[0]); else page('Not found', '<p><a href="#/">Home</a></p>');
  } catch (e) { errorPage(e); }
  main().removeAttribute('aria-busy');
  main().dataset.route = hash.split('?')[0];
}

async function start() {
  try {
    const r = await fetch('config.json', { cache: 'no-store' });
    if (r.ok) config = { ...config, ...(await r.json()) };
  } catch { /* the defaults: the local stack */ }
  const override = new URLSearchParams(location.search).get('api');
  if (override) config.api_base = override.replace(/\/$/, '');
  $('#api-note').textContent = `API ${config.api_base || location.origin}`;
  if (config.auth === 'cognito') await cognitoCallback();
  loadSession();
  renderSession();
  $('#searchbox').onsubmit = (e) => { e.preventDefault(); const q = $('#q').value.trim(); location.hash = q ? `#/search?q=${enc(q)}` : '#/search'; };
  window.addEventListener('hashchange', () => { if (Date.now() - flashedAt > 1500) flash(''); route().then(() => { window.scrollTo(0, 0); main().focus({ preventScroll: true }); }); });
  await route();
}

start();
