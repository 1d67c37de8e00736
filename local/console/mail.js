// The mail page: every email SES accepted (GET /_aws/ses, then each new one from the stream), shown as the
// recipient sees it: the HTML part in a sandboxed iframe (no scripts, no same-origin access), the text part
// beside it.
import { api, h, replace, time } from './dom.js';

export class MailPage {
  constructor(list, viewer, count) {
    this.list = list;
    this.viewer = viewer;
    this.count = count;
    this.messages = [];
    this.selected = undefined;
  }

  async refresh() {
    try {
      const body = await api('/_aws/ses');
      this.messages = body.messages;
      this.render();
    } catch (err) {
      replace(this.viewer, h('p', { role: 'alert' }, `Could not read the mail: ${err.message}`));
    }
  }

  add(message) {
    if (this.messages.some((m) => m.Id === message.Id)) return;
    this.messages.push(message);
    this.render();
  }

  select(id) {
    this.selected = id;
    this.render();
  }

  render() {
    this.count.textContent = this.messages.length ? `(${this.messages.length})` : '';
    replace(
      this.list,
      [...this.messages].reverse().map((m) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'mail-item',
              'data-message-id': m.Id,
              'aria-pressed': String(m.Id === this.selected),
              onclick: () => this.select(m.Id),
            },
            h('strong', {}, m.Subject ?? '(no subject)'),
            h('span', {}, `to ${m.Destination.ToAddresses.join(', ')}`),
            time(m.Timestamp),
          ),
        ),
      ),
    );
    const message = this.messages.find((m) => m.Id === this.selected);
    if (!message) {
      delete this.viewer.dataset.messageId;
      if (this.messages.length === 0) replace(this.viewer, h('p', { class: 'hint' }, 'No email sent yet.'));
      else replace(this.viewer, h('p', { class: 'hint' }, 'Choose an email to read it.'));
      return;
    }
    if (this.viewer.dataset.messageId === message.Id) return; // already shown: keep its scroll position
    this.viewer.dataset.messageId = message.Id;
    const { html_part: html, text_part: text } = message.Body;
    replace(
      this.viewer,
      h('h2', { id: 'h-message' }, message.Subject ?? '(no subject)'),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'From'),
        h('dd', {}, message.Source),
        h('dt', {}, 'To'),
        h('dd', {}, [...message.Destination.ToAddresses, ...message.Destination.CcAddresses].join(', ')),
        h('dt', {}, 'Sent'),
        h('dd', {}, message.Timestamp),
      ),
      h(
        'div',
        { class: 'parts' },
        h(
          'section',
          { 'aria-label': 'HTML part' },
          h('h3', {}, 'HTML part'),
          html
            ? h('iframe', {
                sandbox: '',
                srcdoc: html,
                title: `HTML part of “${message.Subject ?? ''}”`,
                class: 'html-part',
              })
            : h('p', { class: 'muted' }, 'No HTML part.'),
        ),
        h(
          'section',
          { 'aria-label': 'Text part' },
          h('h3', {}, 'Text part'),
          text
            ? h('pre', { class: 'text-part', tabindex: '0' }, text)
            : h('p', { class: 'muted' }, 'No text part.'),
        ),
      ),
    );
  }
}
