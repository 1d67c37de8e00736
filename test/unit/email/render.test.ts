/** The email toolkit every renderer uses: escaping (moved from the alert render tests) and one-line subjects. */
import { describe, expect, it } from 'vitest';
import { escapeHtml, oneLine } from '../../../shared/email/render';

describe('email toolkit', () => {
  it('escapeHtml escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('escapeHtml takes any value, as a renderer passes exit codes and counts', () => {
    expect(escapeHtml(137)).toBe('137');
  });

  it('oneLine turns control characters into one space and trims', () => {
    expect(oneLine(' api\r\nBcc: x@example.com\u0007 ')).toBe('api Bcc: x@example.com');
  });
});
