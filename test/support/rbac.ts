/** RBAC as users apply it from the docs, and Kubernetes' own mapping of a request to what RBAC checks. */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The ClusterRole in the doc's fenced yaml block that starts with `# <file>` (e.g. harborpilot-rbac.yaml). */
export function documentedRules(docPath: string, file: string): RbacRule[] {
  const doc = readFileSync(new URL(`../../${docPath}`, import.meta.url), 'utf8');
  // The block may sit in a list item, indented: drop that indentation before parsing.
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`\`\`\`yaml\\n([ \\t]*)# ${escaped}[^\\n]*\\n([\\s\\S]*?)\\n\\1\`\`\``).exec(doc);
  if (!m) throw new Error(`${docPath} has no ${file} block`);
  const indent = m[1] ?? '';
  const body = (m[2] ?? '')
    .split('\n')
    .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
    .join('\n');
  const role = parseAllDocuments(body)
    .map((d) => d.toJS() as { kind?: string; rules?: RbacRule[] })
    .find((d) => d.kind === 'ClusterRole');
  if (!role?.rules) throw new Error(`${docPath} ${file}: no ClusterRole with rules`);
  return role.rules;
}

export interface RequestAttributes {
  path: string;
  group: string;
  resource: string | undefined;
  verb: string;
}

/** What RBAC would check for a request: API group, resource (with subresource), verb. */
export function requestAttributes(method: string, url: string): RequestAttributes {
  const u = new URL(url, 'https://cluster');
  const [root, ...rest] = u.pathname.split('/').filter(Boolean);
  const group = root === 'api' ? '' : (rest.shift() ?? '');
  rest.shift(); // version
  const named = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  const [resource, name, sub] = named;
  const verbs: Record<string, string> = { PATCH: 'patch', PUT: 'update', POST: 'create', DELETE: 'delete' };
  const verb =
    method === 'GET'
      ? u.searchParams.get('watch') === 'true'
        ? 'watch'
        : name
          ? 'get'
          : 'list'
      : (verbs[method] ?? method);
  return { path: u.pathname, group, resource: resource && (sub ? `${resource}/${sub}` : resource), verb };
}

/** The requests no rule allows; discovery (/api, /apis, /version) is open to every authenticated user. */
export function deniedRequests(calls: RequestAttributes[], rules: RbacRule[]): RequestAttributes[] {
  return calls.filter((c) =>
    c.resource === undefined
      ? !/^\/(api|apis|version)(\/|$)/.test(c.path)
      : !rules.some(
          (r) =>
            r.apiGroups.includes(c.group) &&
            r.resources.includes(c.resource as string) &&
            r.verbs.includes(c.verb),
        ),
  );
}
