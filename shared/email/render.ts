/**
 * The toolkit every function's email renderer uses: the rendered-email shape sendEmail takes, HTML escaping and
 * one-line subjects. Names, reasons and tags in an email come from the user's cloud, so every renderer escapes
 * them the same way.
 */

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** The five HTML-significant characters escaped, so a value is text in an element or an attribute. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]+/g;

/** Control characters (a newline in a reason could start a header) replaced by spaces; for subjects. */
export function oneLine(s: string): string {
  return s.replace(CONTROL, ' ').trim();
}
