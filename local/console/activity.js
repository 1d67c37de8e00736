// The activity page: function invocations and bus events as the stream delivers them, newest first, and
// the dead-letter list. Items are added or replaced one at a time, so an open item stays open.
import { badge, h, replace, table, time } from './dom.js';

/** Items kept on the page: a long demo must not grow the DOM without end. */
const KEEP = 300;
const EVENT_KEYS = [
  'repository-name',
  'image-tag',
  'action-type',
  'result',
  'eventName',
  'group',
  'lastStatus',
  'stopCode',
  'stoppedReason',
];

export class ActivityPage {
  constructor({ invocations, events, dlq }) {
    this.list = invocations;
    this.events = events;
    this.dlq = dlq;
    this.deadLetters = [];
  }

  reset(hello) {
    this.list.replaceChildren();
    this.events.replaceChildren();
    for (const e of hello.events) this.event(e);
    for (const i of hello.invocations) this.invocation(i);
    this.deadLetters = [...hello.deadLetters];
    this.renderDlq();
  }

  event(e) {
    const detail = e.detail ?? {};
    const parts = EVENT_KEYS.filter((k) => typeof detail[k] === 'string').map((k) => `${k}=${detail[k]}`);
    const item = h(
      'li',
      { class: 'event', 'data-detail-type': e['detail-type'], 'data-event-id': e.id },
      h(
        'details',
        { 'data-key': `event-${e.id}` },
        h(
          'summary',
          {},
          time(e.time),
          ' ',
          h('strong', {}, e['detail-type']),
          ` ${e.source} `,
          h('span', { class: 'muted' }, parts.join(' ')),
        ),
        h('pre', { class: 'json', tabindex: '0' }, JSON.stringify(e, null, 2)),
      ),
    );
    this.events.prepend(item);
    trim(this.events);
  }

  /** A new attempt is prepended; a running one that finishes is replaced where it is. */
  invocation(inv) {
    const item = invocationItem(inv);
    const existing = this.list.querySelector(`li[data-id="${CSS.escape(inv.id)}"]`);
    if (existing) {
      const wasOpen = existing.querySelector('details')?.open;
      existing.replaceWith(item);
      if (wasOpen) item.querySelector('details').open = true;
    } else {
      this.list.prepend(item);
      trim(this.list);
    }
  }

  deadLetter(d) {
    this.deadLetters.push(d);
    this.renderDlq();
  }

  renderDlq() {
    replace(
      this.dlq,
      this.deadLetters.length === 0
        ? h('p', { class: 'hint' }, 'None: no event has failed every attempt.')
        : table(
            'Events whose invocation failed every attempt (Lambda’s on-failure records)',
            ['When', 'Function', 'Attempts', 'Error', 'Event'],
            [...this.deadLetters]
              .reverse()
              .map((d) => [
                time(d.timestamp),
                d.requestContext.functionArn.split(':function:')[1] ?? d.requestContext.functionArn,
                String(d.requestContext.approximateInvokeCount),
                `${d.responsePayload.errorType}: ${d.responsePayload.errorMessage}`,
                d.requestPayload?.['detail-type'] ?? '',
              ]),
          ),
    );
  }
}

function trim(list) {
  while (list.children.length > KEEP) list.lastElementChild.remove();
}

function invocationItem(inv) {
  const retry = inv.attempt > 1 ? ` retry ${inv.attempt - 1}` : '';
  return h(
    'li',
    {
      class: 'invocation',
      'data-id': inv.id,
      'data-function': inv.functionName,
      'data-trigger': inv.trigger,
      'data-status': inv.status,
      'data-event-id': inv.eventId,
    },
    h(
      'details',
      {},
      h(
        'summary',
        {},
        time(inv.startedAt),
        ' ',
        h('strong', {}, inv.functionName),
        ` ← ${inv.trigger}${retry} `,
        badge(inv.status, inv.status === 'running' ? 'progress' : inv.status),
        inv.status === 'running' ? '' : h('span', { class: 'muted' }, ` ${inv.durationMs} ms`),
      ),
      h(
        'dl',
        { class: 'facts' },
        fact('Trigger', inv.trigger),
        fact('Event', h('code', {}, inv.eventId)),
        fact('Request', h('code', {}, inv.requestId)),
        fact(
          'Attempt',
          `${inv.attempt}${inv.attempt > 1 ? ' (a retry: Lambda tries an event 3 times)' : ''}`,
        ),
        inv.error ? fact('Error', h('span', { class: 'error' }, inv.error)) : '',
      ),
      inv.result !== undefined
        ? [
            h('h3', {}, 'Result'),
            h('pre', { class: 'json', tabindex: '0' }, JSON.stringify(inv.result, null, 2)),
          ]
        : '',
      inv.logs ? logs(inv.logs) : '',
    ),
  );
}

function fact(name, value) {
  return [h('dt', {}, name), h('dd', {}, value)];
}

/** Powertools' JSON lines as level, message and the other fields; any other line as written. */
function logs(lines) {
  if (lines.length === 0) return h('p', { class: 'muted' }, 'No log lines.');
  const rows = lines.map((line) => {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      entry = undefined;
    }
    if (!entry || typeof entry !== 'object')
      return h('tr', {}, h('td', {}, ''), h('td', { colspan: 2 }, h('code', {}, line)));
    const { level, message, timestamp, ...rest } = entry;
    for (const k of [
      'service',
      'cold_start',
      'function_arn',
      'function_memory_size',
      'function_name',
      'function_request_id',
      'sampling_rate',
    ])
      delete rest[k];
    return h(
      'tr',
      {},
      h('td', {}, level ? badge(String(level).toLowerCase(), String(level).toLowerCase()) : ''),
      h('td', {}, String(message ?? '')),
      h('td', {}, Object.keys(rest).length ? h('code', { class: 'fields' }, JSON.stringify(rest)) : ''),
    );
  });
  return h(
    'table',
    { class: 'logs' },
    h('caption', {}, `Log lines (${lines.length})`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Level', 'Message', 'Fields'].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h('tbody', {}, rows),
  );
}
