// Drives Debian's Chromium (never a downloaded browser) through one OAuth scenario of the browser test.
// Called by nangogateway.tests.browser.BrowserOAuthFlowTest with one JSON argument:
//   { pageUrl, executablePath, outDir, name, gatewayOrigin, timeoutMs, click?, landingUrl? }
// Without `click` it opens the app page and clicks Connect (the SDK's flow); with `click` (a selector) and
// `landingUrl` it opens pageUrl, clicks that, and waits until the tab shows landingUrl (a flow that starts at the
// provider). It follows nothing itself (Chromium does every redirect), records every request the browser made
// (with its redirect chain), every WebSocket frame, the documents shown, the cookies Chromium holds at the end,
// takes screenshots under outDir, and prints one line `RESULT <json>` on stdout.
import { chromium } from 'playwright-core';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cfg = JSON.parse(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = { name: cfg.name, requests: [], documents: [], frames: [], websockets: [], screenshots: [], console: [] };
await mkdir(cfg.outDir, { recursive: true });
let callbackSeen;
const callbackDone = new Promise((resolve) => { callbackSeen = resolve; });
const profile = await mkdtemp(join(tmpdir(), 'ngw-chromium-'));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: cfg.executablePath,
  headless: true,
  chromiumSandbox: false, // --no-sandbox: the test runs as root in CI
  args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  ignoreHTTPSErrors: true, // the HTTPS scenario's gateway has a self-signed certificate
  viewport: { width: 900, height: 640 },
});
try {
  let recording = true;
  context.on('request', (r) => {
    if (!recording) return;
    out.requests.push({ url: r.url(), method: r.method(), nav: r.isNavigationRequest(),
      from: r.redirectedFrom() ? r.redirectedFrom().url() : null });
  });
  context.on('response', async (r) => {
    if (!recording || !r.request().isNavigationRequest()) return;
    const doc = { url: r.url(), status: r.status(), location: null, setCookie: null, body: null };
    out.documents.push(doc);
    try {
      doc.location = (await r.headerValue('location')) ?? null;
      doc.setCookie = (await r.headerValue('set-cookie')) ?? null;
      if (r.status() < 300 || r.status() >= 400) doc.body = (await r.text()).slice(0, 8192);
    } catch (e) { doc.error = String(e); }
    if (new URL(r.url()).pathname === '/integrations/oauth-callback') callbackSeen();
  });

  const page = await context.newPage();
  page.on('console', (m) => out.console.push(`page ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => out.console.push(`page error: ${e}`));
  page.on('websocket', (ws) => {
    const w = { url: ws.url(), closed: false };
    out.websockets.push(w);
    ws.on('framereceived', (f) => out.frames.push({ dir: 'in', payload: String(f.payload) }));
    ws.on('framesent', (f) => out.frames.push({ dir: 'out', payload: String(f.payload) }));
    ws.on('close', () => { w.closed = true; });
  });
  if (cfg.click) {
    await clickThrough(page);
  } else {
    await sdkFlow(page);
  }
  out.cookies = (await context.cookies()).map((c) => ({ name: c.name, value: c.value, domain: c.domain, path: c.path,
    httpOnly: c.httpOnly, sameSite: c.sameSite }));

  // The last gateway page the browser showed, re-rendered without scripts (so it cannot close itself) for a person.
  const last = [...out.documents].reverse().find((d) => d.url.startsWith(cfg.gatewayOrigin) && d.body);
  recording = false;
  if (last) {
    const html = last.body.replace(/<script[\s\S]*?<\/script>/gi, '');
    const still = await context.newPage();
    await still.route('**/*', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
    await still.goto(cfg.gatewayOrigin + '/__rendered__'); // never sent: fulfilled locally from the recorded HTML
    const file = join(cfg.outDir, `${cfg.name}-popup-final.png`);
    await still.screenshot({ path: file });
    out.screenshots.push({ file, live: false, url: last.url, rerendered: true });
    await still.close();
  }
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await context.close().catch(() => {});
  await rm(profile, { recursive: true, force: true }).catch(() => {});
}
// Base64 of indented JSON: one line for the caller to find, and YAML-parseable ("key": value) once decoded.
process.stdout.write('RESULT ' + Buffer.from(JSON.stringify(out, null, 1)).toString('base64') + '\n');

// A flow that starts outside the app: open pageUrl, click cfg.click like a user, and wait (bounded) until the tab
// shows landingUrl. Not getting there is recorded (`ended: timeout`), not thrown, so the caller can say which
// hop went wrong.
async function clickThrough(page) {
  await page.goto(cfg.pageUrl);
  await page.click(cfg.click);
  out.ended = await page.waitForURL((u) => u.href === cfg.landingUrl, { timeout: cfg.timeoutMs / 2 })
    .then(() => page.waitForLoadState('load', { timeout: 5000 })).then(() => 'landed', () => 'timeout');
  out.landedAt = page.url();
  out.pageText = await page.evaluate(() => document.body.innerText).catch((e) => String(e));
  const file = join(cfg.outDir, `${cfg.name}-landed.png`);
  await page.screenshot({ path: file });
  out.screenshots.push({ file, live: true, url: page.url() });
}

async function sdkFlow(page) {
  await page.goto(cfg.pageUrl);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 10000 });

  const popupPromise = context.waitForEvent('page', { timeout: 10000 });
  await page.click('#connect'); // a real user gesture, so the SDK's window.open is not blocked
  const popup = await popupPromise;
  popup.on('console', (m) => out.console.push(`popup ${m.type()}: ${m.text()}`));
  // Screenshot each page the popup shows from the gateway, as soon as it has loaded: the success page closes
  // itself after 500 ms (and the SDK closes the popup 500 ms after the WebSocket result), so this is a race we
  // usually win; a lost race is reported, and the page is re-rendered from its recorded HTML below.
  const shots = [];
  popup.on('load', () => {
    const url = popup.url();
    if (!url.startsWith(cfg.gatewayOrigin)) return;
    const file = join(cfg.outDir, `${cfg.name}-popup-${new URL(url).pathname.split('/').filter(Boolean).join('-')}.png`);
    shots.push(popup.screenshot({ path: file }).then(
      () => out.screenshots.push({ file, live: true, url }),
      (e) => out.screenshots.push({ file: null, live: false, url, error: String(e).split('\n')[0] })));
    shots.push(popup.evaluate(() => document.body.innerText).then(
      (t) => { out.popupText = t; }, () => {}));
  });

  // Done when the SDK's promise settled, or (Nango down: nothing will ever settle it) when the callback
  // page was shown and nothing happened for 1.5 s after it.
  const settled = page.waitForFunction(() => window.__result !== undefined, null, { timeout: cfg.timeoutMs })
    .then(() => 'settled', () => 'timeout');
  const quiet = callbackDone.then(() => sleep(1500)).then(() => 'callback-then-quiet');
  out.ended = await Promise.race([settled, quiet]);
  if (out.ended !== 'settled') {
    // Give a late result the same 1.5 s.
    out.ended = await Promise.race([settled, sleep(1500).then(() => out.ended)]);
  }
  out.result = await page.evaluate(() => window.__result ?? null);
  await sleep(300); // the callback page's postMessage to the opener, if any, has arrived by now
  await sleep(800); // let the SDK close the popup (500 ms) and the WebSocket close
  await Promise.all(shots);
  out.popupClosed = popup.isClosed();
  if (out.popupText === undefined && !out.popupClosed) {
    // Its load event was missed (a busy machine): what the popup still shows is what the user sees.
    out.popupText = await popup.evaluate(() => document.body.innerText).catch(() => undefined);
  }
  out.messages = await page.evaluate(() => window.__messages);
  out.pageText = await page.evaluate(() => document.getElementById('status').textContent);
  const appShot = join(cfg.outDir, `${cfg.name}-app.png`);
  await page.screenshot({ path: appShot });
  out.screenshots.push({ file: appShot, live: true, url: page.url() });
}
