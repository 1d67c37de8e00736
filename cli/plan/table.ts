/** Plain-text tables for the plan commands: columns padded to the widest cell, the last column free. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Shortens `sha256:<64 hex>` to what humans compare: the first 12 hex digits. */
export const shortDigest = (digest: string) =>
  digest.replace(/^sha256:([a-f0-9]{12})[a-f0-9]*$/, 'sha256:$1…');
