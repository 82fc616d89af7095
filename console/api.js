// The module's HTTP API, as the console uses it. Every failure becomes an ApiError whose message
// is meant for people: what went wrong, in words.

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;   // 0: the API could not be reached
    this.code = code;
    this.body = body;
  }
}

const WORDS = {
  invalid_login: 'That is not a GitHub login: 1 to 39 letters, digits or single inner hyphens.',
  github_user_not_found: null,  // the API's own message names the login
  github_unavailable: 'GitHub is unavailable right now; try again in a moment.',
  github_timeout: 'GitHub did not answer in time; try again in a moment.',
  redis_unavailable: 'The state store (Redis) is unavailable; the module reconnects by itself.',
  not_tracked: null,
  not_dead: 'That deal job is no longer dead-lettered (already retried?).',
  deals_off: 'Pipedrive deals are off in this deployment.',
  forbidden: 'This address may not make changes (access control).',
  rate_limited: 'Too many requests; wait a little and try again.',
};

function describe(status, body) {
  const code = body && typeof body.error === 'string' ? body.error : null;
  if (code && WORDS[code]) return WORDS[code];
  if (body && typeof body.message === 'string' && body.message) {
    return body.message.charAt(0).toUpperCase() + body.message.slice(1) + '.';
  }
  if (status === 404) return 'Not found (is this location configured in nginx?).';
  if (status >= 500) return `The server answered ${status}; try again shortly.`;
  return `The request failed with HTTP ${status}.`;
}

// Returns the parsed JSON body (null for 204). `allow` lists statuses that still return the body
// (e.g. /health's 503).
export async function call(method, path, { allow = [] } = {}) {
  let res;
  try {
    res = await fetch(path, { method, headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'unreachable', 'The API is unreachable: nginx did not answer (is it running? is the network up?).');
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (e) {
    body = null;
  }
  if (!res.ok && !allow.includes(res.status)) {
    throw new ApiError(res.status, (body && body.error) || `http_${res.status}`, describe(res.status, body), body);
  }
  if (body === null) {
    throw new ApiError(res.status, 'bad_answer', `The API answered HTTP ${res.status} without JSON.`);
  }
  return body;
}

const enc = encodeURIComponent;

export const api = {
  health: () => call('GET', '/health', { allow: [503] }),
  trackedUsers: (limit, cursor) =>
    call('GET', `/trackedusers?limit=${limit}${cursor ? `&cursor=${enc(cursor)}` : ''}`),
  user: (login) => call('GET', `/user/${enc(login)}`),
  track: (login) => call('POST', `/user/${enc(login)}`),
  untrack: (login) => call('DELETE', `/user/${enc(login)}`),
  deals: (status, limit, cursor) =>
    call('GET', `/deals?status=${enc(status)}&limit=${limit}${cursor ? `&cursor=${enc(cursor)}` : ''}`),
  retry: (gistId) => call('POST', `/deals/${enc(gistId)}/retry`),
  retryAll: () => call('POST', '/deals/retry'),
};
