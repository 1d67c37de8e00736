/**
 * The three PATCH bodies the Kubernetes API accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and
 * strategic merge patch, whose lists of named things merge by key (containers by name, ports by containerPort)
 * as the Go struct tags of the built-in types say. Directives kubectl sends ($setElementOrder, $retainKeys) are
 * honoured where they change the result and otherwise ignored; `$patch: replace|delete` is supported.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return patch;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

/** List field name → merge key, for the fields of the types this API serves. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  tolerations: 'key',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  taints: 'key',
};

export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return rest;
  }
  if (patch.$patch === 'delete') return null;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue; // $retainKeys, $patch handled above
    if (k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const key = MERGE_KEYS[k];
    const current = out[k];
    if (Array.isArray(v) && key !== undefined && (Array.isArray(current) || current === undefined)) {
      out[k] = mergeList(current ?? [], v, key);
    } else if (isObj(v)) {
      const merged = strategicMergePatch(current ?? null, v);
      if (merged === null) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  const deletions = Object.entries(patch).filter(([k]) => k.startsWith('$deleteFromPrimitiveList/'));
  for (const [k, v] of deletions) {
    const field = k.slice('$deleteFromPrimitiveList/'.length);
    const list = out[field];
    if (Array.isArray(list) && Array.isArray(v)) out[field] = list.filter((x) => !v.includes(x));
  }
  return out;
}

function mergeList(current: Json[], patch: Json[], key: string): Json[] {
  if (patch.some((p) => isObj(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObj(p) && p.$patch === 'replace'));
  }
  const out = [...current];
  for (const item of patch) {
    if (!isObj(item)) {
      out.push(item);
      continue;
    }
    const idx = out.findIndex((c) => isObj(c) && c[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) out[idx] = strategicMergePatch(out[idx] as Json, item);
    else out.push(strategicMergePatch(null, item));
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`JSON pointer must start with /: ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: string[]): { parent: Obj | Json[]; last: string } {
  let node: Json = doc;
  for (const p of parts.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(p)] : isObj(node) ? node[p] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') {
      throw new PatchError(`path does not exist: /${parts.join('/')}`);
    }
    node = next;
  }
  if (node === null || typeof node !== 'object')
    throw new PatchError(`path does not exist: /${parts.join('/')}`);
  return { parent: node, last: parts[parts.length - 1] as string };
}

function getAt(doc: Json, path: string): Json {
  let node: Json = doc;
  for (const p of pointer(path)) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(p)] : isObj(node) ? node[p] : undefined;
    if (next === undefined) throw new PatchError(`path does not exist: ${path}`);
    node = next;
  }
  return node;
}

export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch is an array of operations');
  let doc: Json = structuredClone(target);
  for (const raw of ops as Obj[]) {
    const op = raw.op;
    const path = String(raw.path ?? '');
    const parts = pointer(path);
    const remove = (p: string[]) => {
      const { parent, last } = parentOf(doc, p);
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else if (last in parent) delete parent[last];
      else throw new PatchError(`path does not exist: /${p.join('/')}`);
    };
    const add = (p: string[], value: Json) => {
      if (p.length === 0) {
        doc = value;
        return;
      }
      const { parent, last } = parentOf(doc, p);
      if (Array.isArray(parent)) {
        const i = last === '-' ? parent.length : Number(last);
        if (!(i >= 0 && i <= parent.length)) throw new PatchError(`index out of range: /${p.join('/')}`);
        parent.splice(i, 0, value);
      } else parent[last] = value;
    };
    switch (op) {
      case 'add':
        add(parts, structuredClone(raw.value as Json));
        break;
      case 'remove':
        remove(parts);
        break;
      case 'replace':
        getAt(doc, path);
        remove(parts);
        add(parts, structuredClone(raw.value as Json));
        break;
      case 'move':
      case 'copy': {
        const from = String(raw.from ?? '');
        const value = structuredClone(getAt(doc, from));
        if (op === 'move') remove(pointer(from));
        add(parts, value);
        break;
      }
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(raw.value)) {
          throw new PatchError(`test failed at ${path}`);
        }
        break;
      default:
        throw new PatchError(`unknown JSON patch operation ${String(op)}`);
    }
  }
  return doc;
}
