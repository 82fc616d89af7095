// Drives the operator console in Debian's chromium (headless) through playwright-core; started by
// t/console.t, which runs nginx + redis + the stub GitHub and Pipedrive and checks the stubs after.
//
// Environment: BASE_URL (the console), PIPEDRIVE_URL (the stub's base: deal links), PD_BEHAVIOUR
// (the stub's behaviour.json: written here to make Pipedrive refuse deals and to fix it again),
// SHOTS (directory for the screenshots), CHROMIUM (default /usr/bin/chromium).
// Prints one TAP-like line per check ("ok - …" / "not ok - …") and "link <gist> <url>" per deal
// link seen; exits non-zero on any failure.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const PD = process.env.PIPEDRIVE_URL;
const BEHAVIOUR = process.env.PD_BEHAVIOUR;
const SHOTS = process.env.SHOTS;
const EXE = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 20000;

let failures = 0;
function check(ok, name, detail) {
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${!ok && detail ? ` # ${String(detail).replace(/\n/g, ' ')}` : ''}`);
  if (!ok) failures += 1;
  return ok;
}

// Waits for `fn` to hold; records the check either way.
async function eventually(name, fn, timeout = WAIT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return check(true, name);
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > end) return check(false, name, `last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function pipedriveBehaviour(b) {
  const tmp = `${BEHAVIOUR}.console-tmp`;
  fs.writeFileSync(tmp, JSON.stringify(b));
  fs.renameSync(tmp, BEHAVIOUR);
}

async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// Every form control has a label (or an aria-label), every button a name.
async function labelled(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) bad.push(el.outerHTML);
    }
    for (const el of document.querySelectorAll('button')) {
      if (!(el.getAttribute('aria-label') || el.textContent.trim())) bad.push(el.outerHTML);
    }
    return bad;
  });
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gist-console-chromium-'));
// A fresh profile directory every run (playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(userDir, {
  executablePath: EXE,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

try {
  const page = context.pages()[0] || await context.newPage();
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  // Nothing but the console's own origin is ever asked for.
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(BASE)) foreign.push(r.url()); });

  // --- the users page and the health strip ---------------------------------------------------
  await page.goto(`${BASE}/`);
  await eventually('health strip: Redis up', async () =>
    (await page.locator('[data-health="redis"]').textContent()).includes('up'));
  await eventually('health strip: Pipedrive on', async () =>
    (await page.locator('[data-health="pipedrive"]').textContent()).includes('on'));
  check((await page.locator('[data-health="queues"]').count()) === 1, 'health strip: queue depths');
  check((await page.locator('[data-health="github"]').count()) === 1, 'health strip: GitHub budget');
  check((await page.locator('[data-health="rescan"]').count()) === 1, 'health strip: rescan backlog');
  await eventually('an empty list says nobody is tracked', async () =>
    (await page.locator('#users').textContent()).includes('Nobody is tracked'));

  // --- track a user from the form, with the keyboard -----------------------------------------
  await page.focus('#track-login');
  await page.keyboard.type('octo');
  await page.keyboard.press('Enter');
  await eventually('the track answer names the user', async () =>
    (await page.locator('#track-result').textContent()).includes('octo is tracked'));
  const answer = await page.locator('#track-result').textContent();
  check(answer.includes('3 new gists') && answer.includes('0 old gists'), 'the answer: 3 new, 0 old gists', answer);
  check((await page.locator('#track-result [data-kind="new"] li').count()) === 3, 'the three new gists are listed');
  await eventually('the users table lists octo', async () =>
    (await page.locator('tr[data-login="octo"]').count()) === 1);
  await eventually('octo: 3 deals created in the table', async () =>
    (await page.locator('tr[data-login="octo"] .deal-counts').textContent()).includes('3 created'));
  check((await labelled(page)).length === 0, 'users page: every control is labelled', JSON.stringify(await labelled(page)));
  await shot(page, 'console-users');

  // filter
  await page.fill('#filter', 'nobody-here');
  check((await page.locator('tr[data-login="octo"]').count()) === 0, 'the filter hides non-matching logins');
  await page.fill('#filter', 'oct');
  check((await page.locator('tr[data-login="octo"]').count()) === 1, 'the filter keeps matching logins');
  await page.fill('#filter', '');

  // --- the user's page: gists, deal statuses and links ---------------------------------------
  await page.click('tr[data-login="octo"] a');
  await eventually('user page: heading', async () => (await page.locator('h1').textContent()) === 'octo');
  await eventually('user page: every deal is created', async () => {
    const states = await page.locator('.gists [data-deal]').evaluateAll((els) => els.map((e) => e.dataset.deal));
    return states.length === 3 && states.every((s) => s === 'created');
  });
  const links = await page.locator('.gists li').evaluateAll((lis) => lis.map((li) => ({
    gist: li.dataset.gist, href: li.querySelector('[data-deal] a')?.href,
    age: li.querySelector('[data-age]')?.dataset.age,
    created: li.querySelector('time')?.getAttribute('datetime'),
    gistLink: li.querySelector('.gist-head a')?.href,
  })));
  for (const l of links) console.log(`link ${l.gist} ${l.href}`);
  check(links.every((l) => l.href && l.href.startsWith(`${PD}/deal/`)), 'deal links point at the company Pipedrive',
        JSON.stringify(links));
  check(links.every((l) => l.age === 'new'), 'gists of the first scan are new', JSON.stringify(links));
  check(links.every((l) => l.gistLink && l.gistLink.startsWith('https://gist.github.com/') && l.gistLink.includes(l.gist)),
        'each gist links to GitHub', JSON.stringify(links.map((l) => l.gistLink)));
  const created = links.map((l) => l.created);
  check(JSON.stringify(created) === JSON.stringify([...created].sort().reverse()), 'gists newest first',
        JSON.stringify(created));
  check((await page.locator('.gists .files').count()) === 3, 'files are shown');
  check((await labelled(page)).length === 0, 'user page: every control is labelled');
  await shot(page, 'console-user');

  // --- Pipedrive refuses deals: a dead letter, fix, Retry, one deal --------------------------
  pipedriveBehaviour({ endpoints: { create_deal: { fail: { status: 422 } } } });
  await page.click('a[data-nav="users"]');
  await page.locator('#track-login').fill('rita');
  await page.click('#track-form button[type="submit"]');
  await eventually('rita tracked', async () =>
    (await page.locator('#track-result').textContent()).includes('rita is tracked'));
  await page.click('a[data-nav="deals"]');
  await eventually('the dead letter is listed with its reason', async () => {
    await page.waitForTimeout(300);
    if ((await page.locator('#dead tr[data-gist]').count()) !== 1) {
      await page.click('a[data-nav="users"]');
      await page.click('a[data-nav="deals"]');
      return false;
    }
    return (await page.locator('#dead tr[data-gist]').textContent()).includes('422');
  });
  check((await page.locator('#dead tr[data-gist] td[data-label="Login"]').textContent()) === 'rita', 'dead letter: login');
  await eventually('health strip counts the dead letter', async () =>
    (await page.locator('[data-health="queues"]').textContent()).includes('1 dead'));
  check((await labelled(page)).length === 0, 'dead letters page: every control is labelled');
  await shot(page, 'console-dead-letters');

  pipedriveBehaviour({});
  await page.locator('#dead tr[data-gist] button').click();
  await eventually('Retry: one job queued again', async () =>
    (await page.locator('#dead-result').textContent()).includes('1 job queued again'));
  await eventually('no dead letters after the retry', async () => (await page.locator('#no-dead').count()) === 1);
  await page.click('#dead a[href="#/user/rita"], a[href="#/user/rita"]').catch(() => page.goto(`${BASE}/#/user/rita`));
  await page.goto(`${BASE}/#/user/rita`);
  await eventually("rita's deal is created after the retry", async () => {
    const s = await page.locator('.gists [data-deal]').evaluateAll((els) => els.map((e) => e.dataset.deal));
    return s.length === 1 && s[0] === 'created';
  });
  for (const l of await page.locator('.gists li').evaluateAll((lis) => lis.map((li) => ({
    gist: li.dataset.gist, href: li.querySelector('[data-deal] a')?.href })))) {
    console.log(`link ${l.gist} ${l.href}`);
  }

  // --- untrack, with the confirmation dialog, by keyboard ------------------------------------
  await page.click('button[aria-label="Untrack rita"]');
  check(await page.locator('#confirm').evaluate((d) => d.open), 'untrack asks for confirmation');
  await page.keyboard.press('Escape');
  check(!(await page.locator('#confirm').evaluate((d) => d.open)), 'Escape cancels');
  await page.click('button[aria-label="Untrack rita"]');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await eventually('rita is untracked and gone from the list', async () =>
    (await page.locator('#notice').count()) === 1 && (await page.locator('tr[data-login="octo"]').count()) === 1 &&
    (await page.locator('tr[data-login="rita"]').count()) === 0);

  // --- errors in words ----------------------------------------------------------------------
  await page.locator('#track-login').fill('ghost');
  await page.click('#track-form button[type="submit"]');
  await eventually('a GitHub 404 is explained', async () =>
    /Could not track ghost: GitHub has no user 'ghost'/.test(await page.locator('#track-result').textContent()));

  await page.route('**/trackedusers**', (r) => r.abort('connectionrefused'));
  await page.route('**/health', (r) => r.abort('connectionrefused'));
  await page.reload();
  await eventually('an unreachable API is said so, not a blank page', async () =>
    (await page.locator('#users .error').textContent()).includes('The API is unreachable'));
  await eventually('the health strip says health is unknown', async () =>
    (await page.locator('[data-health="unreachable"]').count()) === 1);
  await shot(page, 'console-api-unreachable');
  await page.unroute('**/trackedusers**');
  await page.unroute('**/health');
  await page.route('**/trackedusers**', (r) => r.fulfill({
    status: 503, contentType: 'application/json',
    body: '{"error":"redis_unavailable","message":"the state store (Redis) is unavailable; try again shortly"}' }));
  await page.click('#users button');
  await eventually('an API error answer is shown in words', async () =>
    (await page.locator('#users .error').textContent()).includes('Redis'));
  await page.unroute('**/trackedusers**');

  // --- paging by cursor (the /trackedusers contract: limit, cursor, next_cursor) -------------
  const fake = (login) => ({ login, tracked_since: '2026-01-01T00:00:00Z', last_scanned_at: null,
                             next_scan_at: null, last_scan: null, gist_count: 0 });
  const asked = [];
  await page.route('**/trackedusers**', (r) => {
    const u = new URL(r.request().url());
    asked.push(u.search);
    const second = u.searchParams.get('cursor') === 'c1';
    r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(second
      ? { count: 3, users: [fake('pc')] }
      : { count: 3, users: [fake('pa'), fake('pb')], next_cursor: 'c1' }) });
  });
  await page.goto(`${BASE}/#/`);
  await page.reload();
  await eventually('page 1: two users and a "Load more" button', async () =>
    (await page.locator('tr[data-login]').count()) === 2 && (await page.locator('#more').count()) === 1);
  await page.click('#more');
  await eventually('page 2 appended; no next_cursor: no more button', async () =>
    (await page.locator('tr[data-login]').count()) === 3 && (await page.locator('#more').count()) === 0);
  check(asked.some((q) => q.includes('limit=20')) && asked.some((q) => q.includes('cursor=c1')),
        'asks with limit and the next_cursor it got', JSON.stringify(asked));
  await page.unroute('**/trackedusers**');

  // --- 375 px wide ---------------------------------------------------------------------------
  const small = await context.newPage();
  await small.setViewportSize({ width: 375, height: 800 });
  await small.goto(`${BASE}/`);
  await eventually('375 px: the users list renders', async () =>
    (await small.locator('tr[data-login="octo"]').count()) === 1);
  await eventually('375 px: deal counts', async () =>
    (await small.locator('tr[data-login="octo"] .deal-counts').textContent()).includes('created'));
  const width = await small.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 375, '375 px: no horizontal scrolling', `scrollWidth ${width}`);
  await shot(small, 'console-users-375px');
  await small.goto(`${BASE}/#/user/octo`);
  await eventually('375 px: the user page renders', async () => (await small.locator('.gists li').count()) === 3);
  const width2 = await small.evaluate(() => document.documentElement.scrollWidth);
  check(width2 <= 375, '375 px: user page without horizontal scrolling', `scrollWidth ${width2}`);
  await small.close();

  check(consoleErrors.length === 0, 'no JavaScript errors', consoleErrors.join('; '));
  check(foreign.length === 0, 'nothing is fetched from another origin', foreign.join(' '));
} catch (e) {
  check(false, `the browser run finished`, e.stack || e.message);
} finally {
  await context.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}

process.exit(failures ? 1 : 0);
