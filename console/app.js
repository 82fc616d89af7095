// The operator console: tracked users, a user's gists and deals, dead-lettered deal jobs and a
// health strip, over the module's own HTTP API only. Hash routes: #/, #/user/<login>, #/deals.

import { api, ApiError } from './api.js';
import { h, when, plural } from './dom.js';

const PAGE_SIZE = 20;
const main = document.getElementById('main');
const alertBox = document.getElementById('alert');
const healthBox = document.getElementById('health');

let pipedriveUrl;          // undefined: not asked yet; null: deals off or /deals not configured
let route = 0;             // bumps on every navigation: stale answers are dropped
let refreshTimer = null;
let flash = null;          // a notice for the next page (e.g. after untracking from a user's page)

// --- messages ---------------------------------------------------------------------------------

function showAlert(message) {
  alertBox.replaceChildren(h('p', {}, message));
  alertBox.hidden = false;
}

function clearAlert() {
  alertBox.hidden = true;
  alertBox.replaceChildren();
}

function errorText(e) {
  return e instanceof ApiError ? e.message : `Unexpected error: ${e && e.message ? e.message : e}`;
}

// An inline error in place of a section's content, with a way to try again.
function errorBlock(what, e, retry) {
  return h('div', { class: 'error', role: 'alert' },
    h('p', {}, h('strong', {}, `${what}: `), errorText(e)),
    retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null);
}

function confirmDialog(text, okLabel) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = 'cancel';
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

// --- Pipedrive links --------------------------------------------------------------------------

async function pipedrive() {
  if (pipedriveUrl !== undefined) return pipedriveUrl;
  try {
    const page = await api.deals('dead', 1);
    pipedriveUrl = page.pipedrive_url || null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 0) throw e;
    pipedriveUrl = null;  // /deals not configured: deals without links
  }
  return pipedriveUrl;
}

function dealLink(id) {
  return pipedriveUrl ? `${pipedriveUrl}/deal/${encodeURIComponent(id)}` : null;
}

function dealStatus(deal, gistId) {
  if (!deal) return h('span', { class: 'badge muted', 'data-deal': 'none' }, 'no deal');
  if (deal.status === 'created') {
    const url = dealLink(deal.id);
    return h('span', { class: 'badge ok', 'data-deal': 'created' }, 'created ',
      url ? h('a', { href: url, target: '_blank', rel: 'noopener',
                     'aria-label': `Deal ${deal.id} in Pipedrive for gist ${gistId}` }, `deal ${deal.id}`)
          : `deal ${deal.id}`);
  }
  if (deal.status === 'failed') {
    return h('span', { class: 'badge bad', 'data-deal': 'failed' }, 'failed',
      deal.error ? h('span', { class: 'detail' }, `: ${deal.error}`) : null);
  }
  return h('span', { class: 'badge warn', 'data-deal': 'pending' }, 'pending');
}

// --- health strip -----------------------------------------------------------------------------

async function refreshHealth() {
  let j;
  try {
    j = await api.health();
  } catch (e) {
    healthBox.replaceChildren(h('p', { class: 'bad', 'data-health': 'unreachable' },
      'Health unknown: ', errorText(e)));
    return;
  }
  const item = (label, value, cls, key) =>
    h('li', { class: cls || '', 'data-health': key }, h('span', { class: 'label' }, label), ' ', value);
  const gh = j.github || {};
  const deals = j.deals;
  const rescan = j.rescan || {};
  healthBox.replaceChildren(h('ul', {},
    item('Redis', j.redis === 'up' ? 'up' : 'down', j.redis === 'up' ? 'ok' : 'bad', 'redis'),
    item('Pipedrive', j.pipedrive === 'on' ? 'on' : 'off', j.pipedrive === 'on' ? 'ok' : 'muted', 'pipedrive'),
    item('GitHub budget', gh.remaining === null || gh.remaining === undefined ? 'not seen yet'
      : [`${gh.remaining} / ${gh.limit ?? '?'}`, gh.reset ? [', resets ', when(gh.reset)] : null],
      gh.remaining !== null && gh.remaining !== undefined && gh.remaining < 100 ? 'warn' : '', 'github'),
    item('Rescan backlog', rescan.interval_s ? plural(rescan.overdue ?? 0, 'user') + ' overdue' : 'rescans off',
      (rescan.overdue ?? 0) > 0 ? 'warn' : '', 'rescan'),
    deals ? item('Deal queues', [`${deals.queued} queued · ${deals.retrying} retrying · `,
      h('a', { href: '#/deals' }, `${deals.dead} dead`)], deals.dead > 0 ? 'bad' : '', 'queues') : null));
}

// --- tracked users ----------------------------------------------------------------------------

function trackForm() {
  const input = h('input', { id: 'track-login', name: 'login', type: 'text', required: true,
                             autocomplete: 'off', spellcheck: 'false', maxlength: 39,
                             'aria-describedby': 'track-hint' });
  const result = h('div', { id: 'track-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, 'Track');
  const form = h('form', { class: 'track', id: 'track-form' },
    h('label', { for: 'track-login' }, 'GitHub login to track'),
    h('div', { class: 'row' }, input, button),
    h('p', { id: 'track-hint', class: 'muted' }, 'Tracking scans their public gists now; each new gist becomes a deal.'),
    result);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const login = input.value.trim();
    if (!login) return;
    button.disabled = true;
    result.replaceChildren(h('p', {}, `Scanning ${login} on GitHub…`));
    try {
      await pipedrive();
      const j = await api.track(login);
      result.replaceChildren(scanAnswer(j));
      input.value = '';
      refreshHealth();
      loadUsers(true);
    } catch (e) {
      result.replaceChildren(h('p', { class: 'error', role: 'alert' },
        h('strong', {}, `Could not track ${login}: `), errorText(e)));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function gistTitle(g) {
  return g.description || (g.files && g.files[0]) || '(no description)';
}

function scanAnswer(j) {
  const list = (title, gists, kind) => h('section', { class: 'scan-list', 'data-kind': kind },
    h('h3', {}, `${title} (${gists.length})`),
    gists.length ? h('ul', {}, gists.map((g) => h('li', { 'data-gist': g.id },
      h('a', { href: g.html_url, target: '_blank', rel: 'noopener' }, gistTitle(g)), ' ',
      dealStatus(g.deal, g.id))))
      : h('p', { class: 'muted' }, 'none'));
  return h('div', { class: 'scan-answer' },
    h('p', {}, h('a', { href: `#/user/${encodeURIComponent(j.login)}` }, j.login), ' is tracked',
      ' (since ', when(j.tracked_since), '). ', `${plural(j.new_gists.length, 'new gist')}, `,
      `${plural(j.old_gists.length, 'old gist')}.`),
    list('New gists', j.new_gists, 'new'),
    list('Old gists', j.old_gists, 'old'));
}

const usersState = { rows: [], next: null, filter: '' };

function usersPage() {
  const filter = h('input', { id: 'filter', type: 'search', autocomplete: 'off', value: usersState.filter });
  filter.addEventListener('input', () => {
    usersState.filter = filter.value.trim().toLowerCase();
    renderUserRows();
  });
  main.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Tracked users'),
    trackForm(),
    h('div', { class: 'filter' }, h('label', { for: 'filter' }, 'Filter by login'), filter),
    h('div', { id: 'users' }, h('p', {}, 'Loading tracked users…')));
  if (flash) {
    showNotice(flash);
    flash = null;
  }
  loadUsers(true);
}

async function loadUsers(reset) {
  const mine = route;
  const box = document.getElementById('users');
  let cursor = null;
  if (!reset) cursor = usersState.next;
  try {
    await pipedrive();
    const j = await api.trackedUsers(PAGE_SIZE, cursor);
    if (mine !== route) return;
    const users = Array.isArray(j.users) ? j.users : [];
    usersState.rows = reset ? users : usersState.rows.concat(users);
    usersState.count = j.count;
    usersState.next = j.next_cursor || null;  // absent: the last page
    renderUserRows();
    dealCounts(users, mine);
  } catch (e) {
    if (mine !== route || !box) return;
    box.replaceChildren(errorBlock('Could not load the tracked users', e, () => loadUsers(reset)));
  }
}

function renderUserRows() {
  const box = document.getElementById('users');
  if (!box) return;
  const f = usersState.filter;
  const rows = usersState.rows.filter((u) => !f || u.login.includes(f));
  const table = h('table', { class: 'users' },
    h('caption', {}, `${plural(usersState.count ?? rows.length, 'tracked user')}` +
      (f ? `, ${rows.length} shown matching “${f}”` : '')),
    h('thead', {}, h('tr', {}, ['Login', 'Tracked since', 'Last scan', 'Next scan', 'Last result', 'Gists',
                                'Deals', ''].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((u) => h('tr', { 'data-login': u.login },
      h('td', { 'data-label': 'Login' }, h('a', { href: `#/user/${encodeURIComponent(u.login)}` }, u.login)),
      h('td', { 'data-label': 'Tracked since' }, when(u.tracked_since)),
      h('td', { 'data-label': 'Last scan' }, when(u.last_scanned_at)),
      h('td', { 'data-label': 'Next scan' }, when(u.next_scan_at)),
      h('td', { 'data-label': 'Last result' }, u.last_scan || '—'),
      h('td', { 'data-label': 'Gists' }, String(u.gist_count ?? '—')),
      h('td', { 'data-label': 'Deals', class: 'deal-counts' }, u._deals || h('span', { class: 'muted' }, '…')),
      h('td', {}, h('button', { type: 'button', class: 'danger small', 'aria-label': `Untrack ${u.login}`,
                                onclick: () => untrack(u.login) }, 'Untrack'))))));
  const parts = [table];
  if (!rows.length) {
    parts.push(h('p', { class: 'muted' }, f ? 'No loaded user matches the filter.' : 'Nobody is tracked yet.'));
  }
  if (f && /^[a-z0-9-]{1,39}$/.test(f) && !rows.some((u) => u.login === f)) {
    parts.push(h('p', {}, h('a', { href: `#/user/${encodeURIComponent(f)}` }, `Open ${f}`),
      usersState.next ? ' (not in the pages loaded so far)' : ''));
  }
  if (usersState.next) {
    parts.push(h('button', { type: 'button', id: 'more', onclick: () => loadUsers(false) }, 'Load more users'));
  }
  box.replaceChildren(...parts);
}

// Deals created / pending / failed per user, from each user's gists (GET /user), a few at a time.
async function dealCounts(users, mine) {
  const queue = users.slice();
  const worker = async () => {
    while (queue.length && mine === route) {
      const u = queue.shift();
      try {
        const j = await api.user(u.login);
        const c = { created: 0, pending: 0, failed: 0 };
        for (const g of j.gists || []) if (g.deal && c[g.deal.status] !== undefined) c[g.deal.status]++;
        u._deals = h('span', {}, h('span', { class: 'ok' }, `${c.created} created`), ' · ',
          h('span', { class: c.pending ? 'warn' : '' }, `${c.pending} pending`), ' · ',
          h('span', { class: c.failed ? 'bad' : '' }, `${c.failed} failed`));
      } catch (e) {
        u._deals = h('span', { class: 'muted' }, 'unknown');
      }
    }
    if (mine === route) renderUserRows();
  };
  await Promise.all([worker(), worker(), worker()]);
}

async function untrack(login, after) {
  if (!(await confirmDialog(`Stop tracking ${login}? Their gists stay marked as seen, so tracking ` +
                            'them again opens no second deal.', `Untrack ${login}`))) {
    return;
  }
  try {
    await api.untrack(login);
    clearAlert();
    if (after) {
      flash = `${login} is no longer tracked.`;
      after();
    } else {
      showNotice(`${login} is no longer tracked.`);
      loadUsers(true);
    }
  } catch (e) {
    showAlert(`Could not untrack ${login}: ${errorText(e)}`);
  }
}

function showNotice(text) {
  let n = document.getElementById('notice');
  if (!n) {
    n = h('p', { id: 'notice', class: 'notice', role: 'status' });
    main.prepend(n);
  }
  n.textContent = text;
}

// --- a user's page ----------------------------------------------------------------------------

async function userPage(login) {
  const mine = route;
  main.replaceChildren(h('h1', { tabindex: '-1' }, login), h('p', {}, 'Loading…'));
  let j;
  try {
    await pipedrive();
    j = await api.user(login);
  } catch (e) {
    if (mine !== route) return;
    main.replaceChildren(h('h1', { tabindex: '-1' }, login),
      errorBlock(`Could not load ${login}`, e, () => userPage(login)),
      h('p', {}, h('a', { href: '#/' }, 'Back to the tracked users')));
    return;
  }
  if (mine !== route) return;
  const gists = j.gists || [];
  const c = { created: 0, pending: 0, failed: 0 };
  for (const g of gists) if (g.deal && c[g.deal.status] !== undefined) c[g.deal.status]++;
  const isNew = (g) => !!(g.first_seen_at && j.last_scanned_at && g.first_seen_at >= j.last_scanned_at);
  main.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Tracked users'), ' › ', j.login),
    h('h1', { tabindex: '-1' }, j.login),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Tracked since'), h('dd', {}, when(j.tracked_since)),
      h('dt', {}, 'Last scan'), h('dd', {}, when(j.last_scanned_at), j.last_scan ? ` (${j.last_scan})` : ''),
      h('dt', {}, 'Next scan'), h('dd', {}, when(j.next_scan_at)),
      h('dt', {}, 'Gists'), h('dd', {}, String(j.gist_count ?? gists.length)),
      h('dt', {}, 'Deals'), h('dd', { id: 'deal-summary' },
        `${c.created} created · ${c.pending} pending · ${c.failed} failed`)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => userPage(login) }, 'Refresh'),
      h('a', { href: `https://github.com/${encodeURIComponent(j.login)}`, target: '_blank', rel: 'noopener' },
        'Profile on GitHub'),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Untrack ${j.login}`,
                    onclick: () => untrack(j.login, () => { location.hash = '#/'; }) }, 'Untrack')),
    h('h2', {}, 'Gists, newest first'),
    gists.length ? h('ol', { class: 'gists' }, gists.map((g) => h('li', { 'data-gist': g.id },
      h('div', { class: 'gist-head' },
        h('span', { class: `badge ${isNew(g) ? 'new' : 'muted'}`, 'data-age': isNew(g) ? 'new' : 'old' },
          isNew(g) ? 'new' : 'old'),
        ' ', h('a', { href: g.html_url, target: '_blank', rel: 'noopener' }, gistTitle(g))),
      h('p', { class: 'files' }, h('span', { class: 'label' }, 'Files: '), (g.files || []).join(', ') || '—',
        g.truncated ? ' (more not shown)' : ''),
      h('p', { class: 'meta' }, 'Created ', when(g.created_at), ' · deal: ', dealStatus(g.deal, g.id)))))
      : h('p', { class: 'muted' }, 'No public gists.'),
    h('p', { class: 'muted' }, '“new”: first seen by the last scan; “old”: seen before it.'));
  // While a deal is on its way, look again shortly.
  if (c.pending > 0) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => { if (mine === route) userPage(login); }, 1500);
  }
}

// --- dead letters -----------------------------------------------------------------------------

async function deadPage() {
  const mine = route;
  const box = h('div', { id: 'dead' }, h('p', {}, 'Loading dead letters…'));
  const notice = h('p', { id: 'dead-result', role: 'status', 'aria-live': 'polite' });
  main.replaceChildren(h('h1', { tabindex: '-1' }, 'Dead-lettered deal jobs'),
    h('p', {}, 'Deals Pipedrive refused for good (e.g. 422, 401). Fix the cause, then retry: a retried ',
      'job looks up what it already created, so it never makes a second deal.'),
    notice, box);
  await loadDead(mine, box, notice);
}

async function loadDead(mine, box, notice) {
  let j;
  try {
    await pipedrive();
    j = await api.deals('dead', 100);
  } catch (e) {
    if (mine !== route) return;
    box.replaceChildren(errorBlock('Could not load the dead letters', e, () => loadDead(mine, box, notice)));
    return;
  }
  if (mine !== route) return;
  const retry = async (button, fn, what) => {
    button.disabled = true;
    try {
      const r = await fn();
      notice.textContent = `${what}: ${plural(r.retried, 'job')} queued again.`;
      refreshHealth();
    } catch (e) {
      notice.textContent = '';
      showAlert(`${what} failed: ${errorText(e)}`);
    }
    await loadDead(mine, box, notice);
  };
  const deals = j.deals || [];
  if (!deals.length) {
    box.replaceChildren(h('p', { class: 'muted', id: 'no-dead' }, 'No dead letters.'));
    return;
  }
  const all = h('button', { type: 'button', id: 'retry-all' }, `Retry all (${j.count})`);
  all.addEventListener('click', () => retry(all, api.retryAll, 'Retry all'));
  box.replaceChildren(all, h('table', { class: 'dead' },
    h('caption', {}, `${plural(j.count, 'dead letter')}` + (j.next_cursor ? `, the newest ${deals.length} shown` : '')),
    h('thead', {}, h('tr', {}, ['Gist', 'Login', 'Reason', 'Failed', 'Attempts', ''].map((c) =>
      h('th', { scope: 'col' }, c)))),
    h('tbody', {}, deals.map((d) => {
      const b = h('button', { type: 'button', 'aria-label': `Retry the deal for gist ${d.gist_id}` }, 'Retry');
      b.addEventListener('click', () => retry(b, () => api.retry(d.gist_id), `Retry of ${d.gist_id}`));
      return h('tr', { 'data-gist': d.gist_id },
        h('td', { 'data-label': 'Gist' }, h('a', { href: d.html_url, target: '_blank', rel: 'noopener' },
          d.title || d.gist_id)),
        h('td', { 'data-label': 'Login' }, h('a', { href: `#/user/${encodeURIComponent(d.login)}` }, d.login)),
        h('td', { 'data-label': 'Reason' }, h('strong', {}, d.reason || 'unknown'),
          d.detail ? h('span', { class: 'detail' }, ` ${d.detail}`) : null),
        h('td', { 'data-label': 'Failed' }, when(d.failed_at)),
        h('td', { 'data-label': 'Attempts' }, String(d.attempts)),
        h('td', {}, b));
    }))));
}

// --- router -----------------------------------------------------------------------------------

function navigate() {
  route += 1;
  clearTimeout(refreshTimer);
  clearAlert();
  const hash = location.hash || '#/';
  const m = hash.match(/^#\/user\/([^/]+)$/);
  for (const a of document.querySelectorAll('[data-nav]')) a.removeAttribute('aria-current');
  const current = (name) => {
    const a = document.querySelector(`[data-nav="${name}"]`);
    if (a) a.setAttribute('aria-current', 'page');
  };
  let page;
  if (m) {
    page = userPage(decodeURIComponent(m[1]).toLowerCase());
  } else if (hash === '#/deals') {
    current('deals');
    page = deadPage();
  } else {
    current('users');
    usersPage();
  }
  Promise.resolve(page).finally(() => {
    const h1 = main.querySelector('h1');
    if (h1 && document.activeElement === document.body) h1.focus({ preventScroll: true });
  });
  refreshHealth();
}

window.addEventListener('hashchange', navigate);
setInterval(refreshHealth, 15000);
navigate();
