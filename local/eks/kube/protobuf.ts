/**
 * Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), which kubectl's typed
 * clients send for built-in kinds (`kubectl create namespace|deployment|configmap|secret|job`): a real API
 * server accepts them, and client-go 1.32 does not fall back to JSON when a server answers 415. So they are
 * decoded, with protobufjs and the Kubernetes `.proto` definitions in ./proto (vendored from kubernetes/api
 * and kubernetes/apimachinery, comments removed), into the object the same request would carry as JSON.
 *
 * The wire format (apimachinery's runtime/serializer/protobuf): the 4 bytes `k8s\0`, then a runtime.Unknown
 * whose typeMeta names apiVersion and kind and whose raw bytes are the object's own message. Field names in
 * the .proto files are the JSON names; a few types have a JSON form of their own (Time, IntOrString,
 * Quantity, bytes, RawExtension, FieldsV1) and are converted as apimachinery's JSON marshalling writes them.
 *
 * Go's protobuf marshalling writes every non-pointer field, zero or not (`stdin: false`, `hostPort: 0`,
 * `generation: 0` in every body); its JSON leaves a zero out when the field is `omitempty` and not a pointer,
 * and keeps it otherwise (`replicas: 0` scales to zero). Which fields keep their zero comes from the Go types
 * (./proto/zero-values.json, written by ./proto/zero-values.generate.ts), so the object read here is the one
 * kubectl would have sent as JSON.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { KubeStatusError } from './store';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const PROTO_ROOT = fileURLToPath(new URL('./proto/', import.meta.url));
const FILES = [
  'k8s.io/apimachinery/pkg/runtime/generated.proto',
  'k8s.io/api/core/v1/generated.proto',
  'k8s.io/api/apps/v1/generated.proto',
  'k8s.io/api/batch/v1/generated.proto',
];
/** apiVersion → the package of its messages. */
const PACKAGES: Record<string, string> = {
  v1: 'k8s.io.api.core.v1',
  'apps/v1': 'k8s.io.api.apps.v1',
  'batch/v1': 'k8s.io.api.batch.v1',
};
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

let loaded: Promise<protobuf.Root> | undefined;
let zeroKept: Record<string, ReadonlySet<string>> | undefined;

/** Parsed once, on the first protobuf request (a cloud that never gets one never pays for it). */
function definitions(): Promise<protobuf.Root> {
  loaded ??= (async () => {
    const root = new protobuf.Root();
    // Imports are written as Go import paths (k8s.io/...): they are files under ./proto.
    root.resolvePath = (_origin, target) => `${PROTO_ROOT}${target}`;
    await root.load(FILES, { keepCase: true });
    root.resolveAll();
    const table = JSON.parse(readFileSync(`${PROTO_ROOT}zero-values.json`, 'utf8')) as {
      messages: Record<string, string[]>;
    };
    zeroKept = Object.fromEntries(Object.entries(table.messages).map(([m, fields]) => [m, new Set(fields)]));
    return root;
  })();
  return loaded;
}

/** The object a protobuf request body carries, as its JSON form (apiVersion and kind included). */
export async function decodeKubeProtobuf(body: Buffer): Promise<Record<string, unknown>> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) {
    throw new KubeStatusError(400, 'BadRequest', 'the protobuf body does not start with the k8s\\0 envelope');
  }
  const root = await definitions();
  const unknownType = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  let envelope: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
  try {
    envelope = unknownType.decode(body.subarray(4)) as typeof envelope;
  } catch (err) {
    throw new KubeStatusError(
      400,
      'BadRequest',
      `the protobuf envelope does not decode: ${(err as Error).message}`,
    );
  }
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  const pkg = PACKAGES[apiVersion];
  const type = pkg ? root.lookup(`${pkg}.${kind}`) : null;
  if (!(type instanceof protobuf.Type)) {
    throw new KubeStatusError(
      415,
      'UnsupportedMediaType',
      `protobuf bodies of ${apiVersion} ${kind} are not served here: send application/json`,
    );
  }
  let message: protobuf.Message;
  try {
    message = type.decode(envelope.raw ?? new Uint8Array());
  } catch (err) {
    throw new KubeStatusError(
      400,
      'BadRequest',
      `the ${kind} in the protobuf body does not decode: ${(err as Error).message}`,
    );
  }
  return { apiVersion, kind, ...(toJson(type, message) as Record<string, unknown>) };
}

/** A decoded message as Kubernetes writes it in JSON: only the fields that were set. */
function toJson(type: protobuf.Type, message: unknown): unknown {
  const special = SPECIAL[type.fullName.slice(1)];
  if (special) return special(message as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  const value = message as Record<string, unknown>;
  const kept = zeroKept?.[type.fullName.slice(1)];
  for (const field of type.fieldsArray) {
    if (!Object.hasOwn(value, field.name)) continue;
    const v = value[field.name];
    if (v === undefined || v === null) continue;
    let json: unknown;
    if (field.map) {
      const entries = Object.entries(v as Record<string, unknown>);
      // Map values stay as sent, empty strings included (a ConfigMap key may hold "").
      json = Object.fromEntries(entries.map(([k, x]) => [k, fieldValue(field, x)]));
    } else if (field.repeated) {
      json = (v as unknown[]).map((x) => fieldValue(field, x));
    } else {
      json = fieldValue(field, v);
      if (!field.resolvedType) {
        // A scalar: its zero is kept only where Go's JSON writes it (a pointer, or a field without omitempty).
        if (!isZero(json) || kept?.has(field.name)) out[field.name] = json;
        continue;
      }
    }
    // Empty lists, maps and objects, and the zero Time (null), are left out as Go's JSON leaves them out.
    if (!isEmpty(json)) out[field.name] = json;
  }
  return out;
}

function fieldValue(field: protobuf.Field, v: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Type) return toJson(field.resolvedType, v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return num(v) ?? v;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v as object).length === 0;
}

/** int64 fields decode as Long objects: JSON writes them as numbers. */
function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const long = v as protobuf.Long;
    return long.high * 2 ** 32 + (long.low >>> 0);
  }
  return undefined;
}

const rfc3339 = (m: Record<string, unknown>, fraction: boolean) => {
  const seconds = num(m.seconds) ?? 0;
  if (seconds === 0 && (num(m.nanos) ?? 0) === 0) return null; // the zero Time: null in JSON
  const iso = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  if (!fraction) return iso;
  return iso.replace('Z', `.${String(Math.floor((num(m.nanos) ?? 0) / 1000)).padStart(6, '0')}Z`);
};
const rawJson = (bytes: unknown) =>
  bytes instanceof Uint8Array && bytes.length > 0 ? JSON.parse(Buffer.from(bytes).toString('utf8')) : {};

/** Types whose JSON form is not their fields. */
const SPECIAL: Record<string, (m: Record<string, unknown>) => unknown> = {
  [`${META}.Time`]: (m) => rfc3339(m, false),
  [`${META}.MicroTime`]: (m) => rfc3339(m, true),
  [`${META}.Duration`]: (m) => `${(num(m.duration) ?? 0) / 1e9}s`,
  [`${META}.FieldsV1`]: (m) => rawJson(m.Raw),
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': (m) =>
    (num(m.type) ?? 0) === 1 ? m.strVal : (m.intVal ?? 0),
  'k8s.io.apimachinery.pkg.api.resource.Quantity': (m) => m.string,
  'k8s.io.apimachinery.pkg.runtime.RawExtension': (m) => rawJson(m.raw),
};
