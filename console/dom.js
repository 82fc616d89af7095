// Small DOM helpers: elements are built with text nodes only (never innerHTML), so nothing the
// API returns (gist descriptions, error texts) can become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// <time> with the local date and time (seconds dropped), or an em dash.
export function when(text) {
  if (!text) return h('span', { class: 'muted' }, '—');
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return h('span', {}, text);
  const shown = d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric',
                                              hour: '2-digit', minute: '2-digit' });
  return h('time', { datetime: text, title: text }, shown);
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
