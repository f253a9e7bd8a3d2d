// The storefront (web/) in a real headless browser, Debian's chromium driven by playwright-core,
// against the local stack that `make test` started (infra/test.sh runs this after the cargo tests):
//   BAZAAR_API_URL             the stack of make dev (its gateway serves the page at /app/)
//   BAZAAR_SHORT_HOLD_API_URL  the second API on the same tables whose holds last 2 s
//   PAYMENTS                   stripe (localstripe) or test: which test card declines
// Journeys: buyer (search → product → add from two shops → cart → checkout → orders), seller
// (shop → listing → order → ship, then the buyer's review and the seller's notification), a hold
// lapsing, and a declined card. Screenshots of the main pages go to docs/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const API = process.env.BAZAAR_API_URL;
const SHORT = process.env.BAZAAR_SHORT_HOLD_API_URL;
if (!API || !SHORT) throw new Error('BAZAAR_API_URL and BAZAAR_SHORT_HOLD_API_URL must be set (make test sets them)');
const DECLINING_CARD = process.env.PAYMENTS === 'stripe' ? 'pm_card_chargeCustomerFail' : 'pm_card_chargeDeclined';
const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const RUN = Date.now().toString(36);

let context;
let profile;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'bazaar-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(20_000);
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function tab(base, user) {
  const page = await context.newPage();
  page.on('pageerror', (e) => { throw new Error(`page error on ${page.url()}: ${e.message}`); });
  await page.goto(`${base}/app/#/`);
  await page.locator('main h1').waitFor();
  if (user) {
    await page.fill('#user', user);
    await page.click('#picker button[type=submit]');
    await page.locator('#who', { hasText: user }).waitFor();
  }
  return page;
}

async function go(page, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction((h) => document.querySelector('main').dataset.route === h.split('?')[0] && !document.querySelector('main').hasAttribute('aria-busy'), hash);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

// Every form control on the page has an accessible name.
async function assertLabelled(page) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label')))
    .map((el) => el.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, [], 'form controls without a label');
}

async function addToCart(page, productId) {
  await go(page, `#/product/${productId}`);
  await page.click('#add-to-cart');
  await page.locator('#flash', { hasText: 'Added' }).waitFor();
}

async function checkout(page, card) {
  await go(page, '#/cart');
  await page.selectOption('#pm', card);
  await page.click('#place-order');
}

async function reloadUntil(page, hash, selector, seconds = 30) {
  for (let i = 0; i < seconds; i += 1) {
    await page.goto(`${new URL(page.url()).origin}/app/${hash}`);
    await page.waitForFunction(() => document.querySelector('main').dataset.route && !document.querySelector('main').hasAttribute('aria-busy'));
    if (await page.locator(selector).count()) return;
    await page.waitForTimeout(1000);
  }
  assert.fail(`${selector} did not appear on ${hash}`);
}

test('first load is small, accessible and fits a phone', async () => {
  const page = await context.newPage();
  let bytes = 0;
  page.on('response', async (r) => {
    if (new URL(r.url()).pathname.startsWith('/app/')) bytes += gzipSync(await r.body()).length;
  });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${API}/app/`);
  await page.locator('main h1').waitFor();
  await page.waitForLoadState('networkidle');
  assert.ok(bytes > 0 && bytes <= 150 * 1024, `first load ${bytes} bytes compressed`);
  assert.ok(await page.locator('.product-card').count() > 0, 'the home feed shows products');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow}px too wide)`);
  await assertLabelled(page);
  await shot(page, 'home-phone');
  await page.close();
});

let listing; // the seller's new product, bought in the seller journey and used by the later ones

test('buyer: search, product, add from two shops, cart, checkout, orders', async () => {
  const page = await tab(API, `buyer-${RUN}`);
  await shot(page, 'home');
  await page.fill('#q', 'candle');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => document.querySelector('main').dataset.route === '#/search' && !document.querySelector('main').hasAttribute('aria-busy'));
  const total = Number((await page.textContent('#result-count')).split(' ')[0]);
  assert.ok(total > 0, 'the search finds products');
  assert.equal(await page.locator('#degraded').count(), 0, 'search is not degraded');
  assert.ok(await page.locator('.facets li a').count() > 0, 'facets are shown');
  await assertLabelled(page);
  await shot(page, 'search');
  // Sort by price and page forward: the controls work.
  await page.selectOption('select[name=sort]', 'price_asc');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('sort=price_asc') && !document.querySelector('main').hasAttribute('aria-busy'));
  const cards = await page.$$eval('.product-card', (els) => els.map((e) => ({ id: e.dataset.productId, shop: e.dataset.shopId })));
  assert.ok(cards.length > 1);

  const shops = new Set();
  let first = true;
  for (const card of cards) {
    if (shops.has(card.shop) || shops.size === 2) continue;
    await page.click(`.product-card[data-product-id="${card.id}"] a`);
    await page.waitForFunction(() => document.querySelector('main').dataset.route.startsWith('#/product/') && !document.querySelector('main').hasAttribute('aria-busy'));
    await page.locator('#availability').waitFor();
    if (first) {
      await assertLabelled(page);
      await page.click('#fav');
      await page.locator('#fav[aria-pressed="true"]').waitFor();
      await shot(page, 'product');
      first = false;
    }
    if (await page.isEnabled('#add-to-cart')) {
      await page.click('#add-to-cart');
      await page.locator('#flash .notice').waitFor();
      if ((await page.textContent('#flash')).includes('Added')) shops.add(card.shop);
    }
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('main').dataset.route === '#/search' && !document.querySelector('main').hasAttribute('aria-busy'));
  }
  assert.equal(shops.size, 2, 'added products from two shops');

  await go(page, '#/cart');
  assert.equal(await page.locator('.shop-group').count(), 2, 'the cart is grouped by shop');
  assert.equal(await page.locator('.hold.held', { hasText: 'Held for you for' }).count(), 2, 'every line shows its hold countdown');
  await assertLabelled(page);
  await shot(page, 'cart');
  await checkout(page, 'pm_card_visa');
  await page.locator('main h1', { hasText: 'Thank you' }).waitFor();
  assert.equal(await page.locator('main li a[href^="#/order/"]').count(), 2, 'one order per shop');
  await go(page, '#/orders');
  assert.ok(await page.locator('.order-row').count() >= 2);
  assert.equal(await page.locator('.order-row .status', { hasText: 'paid' }).count(), 2);
  await shot(page, 'orders');

  await go(page, '#/favorites');
  assert.ok(await page.locator('.product-card').count() >= 1, 'the favorited product is listed');

  // When search answers from its fallback (degraded), the page says so.
  await page.route(/\/search\?/, async (r) => {
    const response = await r.fetch();
    await r.fulfill({ response, json: { ...(await response.json()), degraded: true } });
  });
  await go(page, '#/search?category=candles');
  await page.locator('#degraded').waitFor();
  await page.unroute(/\/search\?/);
  await page.close();
});

test('seller: shop, listing, order, ship; the buyer reviews; the seller is notified', async () => {
  const seller = await tab(API, `seller-${RUN}`);
  await go(seller, '#/sell');
  await seller.fill('#shop-name', `Browser Test Shop ${RUN}`);
  await seller.click('#new-shop button[type=submit]');
  await seller.locator('main h1', { hasText: `Browser Test Shop ${RUN}` }).waitFor();
  await seller.fill('#pf-title', `Browser test lamp ${RUN}`);
  await seller.fill('input[name=price]', '24.50');
  await seller.fill('input[name=quantity]', '5');
  await seller.fill('input[name=category]', 'home-decor');
  await seller.fill('#pf-tags', 'lamp, brass');
  await seller.click('#new-product button[type=submit]');
  await seller.locator('.listing', { hasText: `Browser test lamp ${RUN}` }).waitFor();
  listing = await seller.getAttribute('.listing', 'data-product-id');

  // A second listing, deleted again.
  await seller.fill('#pf-title', `Browser test mistake ${RUN}`);
  await seller.fill('input[name=price]', '3');
  await seller.click('#new-product button[type=submit]');
  const mistake = seller.locator('.listing', { hasText: `Browser test mistake ${RUN}` });
  await mistake.waitFor();
  await mistake.locator('a', { hasText: 'Edit' }).click();
  await seller.locator('#delete-product').waitFor();
  seller.once('dialog', (d) => d.accept());
  await seller.click('#delete-product');
  await seller.waitForFunction(() => document.querySelector('main').dataset.route === '#/sell' && !document.querySelector('main').hasAttribute('aria-busy'));
  assert.equal(await seller.locator('.listing', { hasText: `Browser test mistake ${RUN}` }).count(), 0, 'the deleted listing is gone');

  // Edit the listing: the new price shows on its page.
  await go(seller, `#/sell/product/${listing}`);
  await seller.fill('input[name=price]', '25.00');
  await seller.click('#edit-product button[type=submit]');
  await seller.waitForFunction(() => document.querySelector('main').dataset.route === '#/sell' && !document.querySelector('main').hasAttribute('aria-busy'));
  await go(seller, `#/product/${listing}`);
  assert.equal(await seller.textContent('#price'), '$25.00');

  // A buyer orders it; the first checkout request is lost on the network and retried with the same key.
  const buyer = await tab(API, `shopper-${RUN}`);
  await addToCart(buyer, listing);
  const keys = [];
  let dropped = false;
  await buyer.route('**/checkout', async (r) => {
    keys.push(r.request().headers()['idempotency-key']);
    if (!dropped) { dropped = true; await r.abort('failed'); } else await r.continue();
  });
  await checkout(buyer, 'pm_card_visa');
  await buyer.locator('#retry:not([hidden])').waitFor();
  await buyer.click('#retry');
  await buyer.locator('main h1', { hasText: 'Thank you' }).waitFor();
  assert.equal(keys.length, 2);
  assert.ok(keys[0] && keys[0] === keys[1], 'the retry reuses the attempt’s Idempotency-Key');
  await buyer.unroute('**/checkout');
  const orderHref = await buyer.getAttribute('main li a[href^="#/order/"]', 'href');

  await reloadUntil(seller, '#/sell', '.order-row');
  await seller.fill('form.ship input[name=tracking_number]', `TRACK${RUN}`);
  await assertLabelled(seller);
  await shot(seller, 'seller');
  await seller.click('form.ship button[type=submit]');
  await seller.locator('.order-row .status', { hasText: 'shipped' }).waitFor();

  await go(buyer, orderHref);
  assert.equal(await buyer.textContent('#order-status'), 'shipped');
  await buyer.selectOption('#rating', '5');
  await buyer.fill('#comment', 'Lovely lamp, quick shipping.');
  await buyer.click('#review button[type=submit]');
  await buyer.locator('#review-result', { hasText: 'review is posted' }).waitFor();
  await shot(buyer, 'order');

  await reloadUntil(seller, '#/notifications', '.notification');
  await shot(seller, 'notifications');
  await buyer.close();
  await seller.close();
});

test('a hold lapses: the cart says so', async () => {
  assert.ok(listing, 'the seller journey made a listing');
  const page = await tab(SHORT, `lapse-${RUN}`);
  await addToCart(page, listing);
  await go(page, '#/cart');
  await page.locator('.hold.lapsed', { hasText: 'Hold lapsed' }).waitFor({ timeout: 15_000 });
  await shot(page, 'cart-hold-lapsed');
  // The line stays in the cart; checkout checks it again and still succeeds (stock is there).
  await checkout(page, 'pm_card_visa');
  await page.locator('main h1', { hasText: 'Thank you' }).waitFor();
  await page.close();
});

test('a checkout still in progress: the page asks to wait and retries the same attempt', async () => {
  assert.ok(listing, 'the seller journey made a listing');
  const page = await tab(API, `patient-${RUN}`);
  await addToCart(page, listing);
  // The first answer is the API's 409 checkout_in_progress (as while another request with the
  // same key runs); the retry goes through.
  const keys = [];
  await page.route('**/checkout', async (r) => {
    keys.push(r.request().headers()['idempotency-key']);
    if (keys.length === 1) {
      await r.fulfill({ status: 409, headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
        body: JSON.stringify({ type: 'https://bazaar.dev/problems/checkout_in_progress', title: 'Conflict', status: 409, code: 'checkout_in_progress', detail: 'A checkout with this Idempotency-Key is still in progress.' }) });
    } else await r.continue();
  });
  await checkout(page, 'pm_card_visa');
  await page.locator('#checkout-result', { hasText: 'still being placed' }).waitFor();
  await page.click('#retry');
  await page.locator('main h1', { hasText: 'Thank you' }).waitFor();
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1], 'the retry reuses the attempt’s Idempotency-Key');
  await page.close();
});

test('a declined card: nothing is charged, the cart stays, another card works', async () => {
  assert.ok(listing, 'the seller journey made a listing');
  const page = await tab(API, `decline-${RUN}`);
  await addToCart(page, listing);
  await checkout(page, DECLINING_CARD);
  await page.locator('#declined').waitFor();
  assert.match(await page.textContent('#checkout-result'), /choose another payment method/);
  await shot(page, 'checkout-declined');
  await go(page, '#/cart');
  assert.equal(await page.locator('.line').count(), 1, 'the cart is unchanged');
  await checkout(page, 'pm_card_visa');
  await page.locator('main h1', { hasText: 'Thank you' }).waitFor();
  await page.close();
});

test('an item sells out while in the cart: the cart says it is gone and checkout says what to do', async () => {
  const seller = await tab(API, `seller-${RUN}`);
  await go(seller, '#/sell');
  await seller.fill('#pf-title', `Browser test last one ${RUN}`);
  await seller.fill('input[name=price]', '9');
  await seller.fill('input[name=quantity]', '1');
  await seller.click('#new-product button[type=submit]');
  const row = seller.locator('.listing', { hasText: `Browser test last one ${RUN}` });
  await row.waitFor();
  const id = await row.getAttribute('data-product-id');

  const buyer = await tab(API, `late-${RUN}`);
  await addToCart(buyer, id);
  await go(seller, `#/sell/product/${id}`);
  await seller.fill('input[name=quantity]', '0');
  await seller.click('#edit-product button[type=submit]');
  await seller.locator('#flash', { hasText: 'Saved' }).waitFor();

  await go(buyer, '#/cart');
  await buyer.locator('.hold.gone', { hasText: 'Gone' }).waitFor();
  await buyer.selectOption('#pm', 'pm_card_visa');
  await buyer.click('#place-order');
  await buyer.locator('#checkout-result', { hasText: 'can no longer be had' }).waitFor();
  assert.match(await buyer.textContent('#checkout-result'), /Nothing was charged/);
  await shot(buyer, 'checkout-unavailable');
  await buyer.close();
  await seller.close();
});
