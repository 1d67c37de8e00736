/** Label selectors (equality and set based, as `kubectl -l` writes them) and field selectors (equality). */

export type Labels = Record<string, string>;
type Requirement = (labels: Labels) => boolean;

export class SelectorError extends Error {
  constructor(
    readonly selector: string,
    reason: string,
  ) {
    super(`unable to parse requirement: ${selector}: ${reason}`);
    this.name = 'SelectorError';
  }
}

/** Splits on commas outside parentheses: `a in (x,y),b!=c`. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

export function parseLabelSelector(selector: string | null | undefined): (labels: Labels) => boolean {
  if (!selector) return () => true;
  const reqs: Requirement[] = terms(selector).map((t) => {
    let m = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/.exec(t);
    if (m) {
      const [, k = '', op, v = ''] = m;
      return op === '!=' ? (l) => l[k] !== v : (l) => l[k] === v;
    }
    m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t);
    if (m) {
      const [, k = '', op, list = ''] = m;
      const values = list.split(',').map((v) => v.trim());
      return op === 'in'
        ? (l) => l[k] !== undefined && values.includes(l[k] as string)
        : (l) => l[k] === undefined || !values.includes(l[k] as string);
    }
    m = /^(!?)([^\s!=(),]+)$/.exec(t);
    if (m) {
      const [, not, k = ''] = m;
      return not ? (l) => !(k in l) : (l) => k in l;
    }
    throw new SelectorError(selector, `cannot read "${t}"`);
  });
  return (labels) => reqs.every((r) => r(labels));
}

/** `matchLabels` + `matchExpressions` of a LabelSelector object. */
export function labelSelectorObject(sel: unknown): (labels: Labels) => boolean {
  const s = (sel ?? {}) as {
    matchLabels?: Labels;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  const exprs = s.matchExpressions ?? [];
  return (labels) =>
    Object.entries(s.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    exprs.every((e) => {
      const v = labels[e.key];
      switch (e.operator) {
        case 'In':
          return v !== undefined && (e.values ?? []).includes(v);
        case 'NotIn':
          return v === undefined || !(e.values ?? []).includes(v);
        case 'Exists':
          return v !== undefined;
        case 'DoesNotExist':
          return v === undefined;
        default:
          return false;
      }
    });
}

function fieldValue(obj: unknown, path: string): string {
  let node: unknown = obj;
  for (const p of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[p];
  return node === undefined || node === null ? '' : String(node);
}

export function parseFieldSelector(selector: string | null | undefined): (obj: unknown) => boolean {
  if (!selector) return () => true;
  const reqs = terms(selector).map((t) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(t);
    if (!m) throw new SelectorError(selector, `cannot read "${t}"`);
    const [, path = '', op, value = ''] = m;
    return op === '!='
      ? (o: unknown) => fieldValue(o, path) !== value
      : (o: unknown) => fieldValue(o, path) === value;
  });
  return (obj) => reqs.every((r) => r(obj));
}
