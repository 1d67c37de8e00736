/**
 * The OpenAPI v3 documents kubectl reads before `edit`, `replace`, `create -f` and `apply`: it checks that the
 * server validates fields itself (a `fieldValidation` query parameter on the kind's operations), and then
 * sends `fieldValidation=Strict` instead of validating against downloaded schemas. So the documents describe
 * the served operations and their parameters, with no schemas: /openapi/v3 lists one document per group and
 * version. Without them those commands stop at "failed to download openapi".
 */
import { createHash } from 'node:crypto';
import { GROUPS, RESOURCES, type ResourceDef } from './store';

/** `api/v1`, `apis/apps/v1`, ... as /openapi/v3 names them. */
const gvPath = (group: string) => (group ? `apis/${group}/v1` : 'api/v1');

const query = (name: string) => ({ name, in: 'query', schema: { type: 'string' }, uniqueItems: true });
const WRITE_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation'].map(query);

function operations(def: ResourceDef, collection: boolean) {
  const gvk = { group: def.group, version: 'v1', kind: def.kind };
  const op = (action: string, parameters: object[] = []) => ({
    operationId: `${action}${def.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    parameters,
    responses: { '200': { description: 'OK' } },
  });
  return collection
    ? { get: op('list'), post: op('post', WRITE_PARAMETERS) }
    : {
        get: op('get'),
        put: op('put', WRITE_PARAMETERS),
        patch: op('patch', [...WRITE_PARAMETERS, query('force')]),
        delete: op('delete'),
      };
}

/** One group/version's document: every served resource's collection and item paths. */
export function openApiDocument(group: string, gitVersion: string) {
  const paths: Record<string, object> = {};
  for (const def of RESOURCES.filter((r) => r.group === group)) {
    const base = `/${gvPath(group)}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.plural}`;
    paths[base] = operations(def, true);
    paths[`${base}/{name}`] = operations(def, false);
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: gitVersion },
    paths,
    components: { schemas: {} },
  };
}

/** /openapi/v3: where each group/version's document is (the hash lets clients cache it). */
export function openApiIndex(gitVersion: string) {
  const groups = ['', ...GROUPS];
  return {
    paths: Object.fromEntries(
      groups.map((g) => {
        const hash = createHash('sha512')
          .update(JSON.stringify(openApiDocument(g, gitVersion)))
          .digest('hex')
          .slice(0, 64)
          .toUpperCase();
        return [gvPath(g), { serverRelativeURL: `/openapi/v3/${gvPath(g)}?hash=${hash}` }];
      }),
    ),
  };
}

/** The group of an /openapi/v3/<gv> path, or undefined when it is not served. */
export function openApiGroupOf(path: string): string | undefined {
  const gv = path.replace(/^\/openapi\/v3\//, '');
  return ['', ...GROUPS].find((g) => gvPath(g) === gv);
}
