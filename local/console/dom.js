// Small DOM helpers for the console: elements are built with textContent and attributes, never from HTML
// strings, so nothing the fleet or a function wrote can inject markup.

/**
 * h('td', { class: 'x', title: 'y' }, 'text', child, [more]) → an element. Attributes whose value is
 * undefined, null or false are left out; `true` sets an empty attribute. Children: strings, nodes, arrays.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** A table with a caption and column headers; rows are arrays of cells (strings or nodes) or <tr>s. */
export function table(caption, headers, rows, attrs = {}) {
  return h(
    'table',
    attrs,
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((name) => h('th', { scope: 'col' }, name)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, 'none'))
        : rows.map((row) =>
            row instanceof Node
              ? row
              : h(
                  'tr',
                  {},
                  row.map((c) => h('td', {}, c)),
                ),
          ),
    ),
  );
}

/** A digest shortened for reading, whole in its title and in data-digest (tests and copy-paste use it). */
export function digest(value) {
  if (!value) return h('span', { class: 'muted' }, '—');
  const text = value.startsWith('sha256:') ? value.slice(0, 19) : value;
  return h('code', { class: 'digest', title: value, 'data-digest': value }, text);
}

/** A coloured word for a state; the text carries the meaning, the colour only helps. */
export function badge(text, kind = String(text).toLowerCase()) {
  return h('span', { class: `badge badge-${kind.replace(/[^a-z_-]/g, '')}` }, text);
}

export function time(iso) {
  if (!iso) return '';
  return h('time', { datetime: iso, title: iso }, iso.slice(11, 19));
}

/** "3 d ago", relative to the simulated clock's now. */
export function ago(iso, nowIso) {
  const ms = Date.parse(nowIso) - Date.parse(iso);
  const text =
    ms < 60_000
      ? 'just now'
      : ms < 3_600_000
        ? `${Math.round(ms / 60_000)} min ago`
        : ms < 86_400_000
          ? `${Math.round(ms / 3_600_000)} h ago`
          : `${Math.round(ms / 86_400_000)} d ago`;
  return h('time', { datetime: iso, title: iso }, text);
}

export function bytes(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Replaces a container's content, keeping which <details data-key> were open (a re-render must not close them). */
export function replace(container, ...children) {
  const open = new Set(
    [...container.querySelectorAll('details[open][data-key]')].map((d) => d.getAttribute('data-key')),
  );
  container.replaceChildren();
  append(container, children);
  for (const d of container.querySelectorAll('details[data-key]')) {
    if (open.has(d.getAttribute('data-key'))) d.open = true;
  }
}

/** JSON from the admin API; throws with its error message. */
export async function api(path, init) {
  const res = await fetch(path, {
    ...init,
    headers: init?.body ? { 'Content-Type': 'application/json' } : undefined,
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : {};
  if (!res.ok) throw new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
  return body;
}
