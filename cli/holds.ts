/**
 * `harborpilot freeze|unfreeze|holds|approve|reject|release`: the holds people set and answer, written to the state
 * table with the caller's own AWS credentials, so IAM decides who may (docs/safety.md has the policies).
 * Works against AWS or the local cloud (AWS_ENDPOINT_URL or --endpoint-url; there its simulated time).
 * Exit codes: 0 done, 1 an error (named, AWS's own for a refused call), 2 a usage error.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { makeEksConnector } from '../shared/aws/eks-connect';
import type { KubeClient } from '../shared/aws/kube';
import { errorMessage } from '../shared/errors';
import type { FailedDigests } from '../shared/holds/failed-digest';
import { activeFreeze } from '../shared/holds/gates';
import {
  applyRollback,
  gatherEcsRollback,
  gatherEksRollback,
  type RollbackPlan,
} from '../shared/holds/rollback';
import { type Approval, type Freeze, type HeldItem, HoldsStore } from '../shared/holds/store';
import { isDigest, parseImageRef, type RepositoryRef } from '../shared/image-ref';
import { imageKeyOf, ScanRecords } from '../shared/scan/store';
import { stateDocument } from '../shared/state/document';
import { formatWorkloadId, parseWorkloadId } from '../shared/workload';
import { loadPlanConfig, localCloudNow } from './plan/config';
import { table } from './plan/table';

export class HoldsUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HoldsUsageError';
  }
}

const COMMON = `  --dry-run           say what would be written, write nothing
  --json              machine-readable output on stdout
  --config FILE       harborpilot config, for the state table's name (default: harborpilot.yml)
  --world FILE        the local cloud's world file (its config:, as \`harborpilot plan --world\`)
  --table NAME        the state table (default: stateTable of the config)
  --endpoint-url URL  AWS endpoint, e.g. the local cloud (default: AWS_ENDPOINT_URL, else AWS)
  -h, --help          this help`;

export const USAGE: Record<string, string> = {
  freeze: `usage: harborpilot freeze <workload> --reason TEXT [--until TIME] [options]

Holds every automatic change to the workload (pushes and reconcile) until unfrozen or until TIME.
  <workload>     ecs/<cluster>/<service> or eks/<cluster>/<namespace>/<kind>/<name>
  --reason TEXT  why (shown by harborpilot holds, plan push and the logs)
  --until TIME   an ISO 8601 time (2026-12-24T18:00:00Z) or a duration from now (30m, 8h, 2d)
${COMMON}
`,
  unfreeze: `usage: harborpilot unfreeze <workload> [options]

Ends a freeze; a push held by it is applied by the next release run (within a minute).
${COMMON}
`,
  holds: `usage: harborpilot holds [options]

Freezes, held pushes (with the gate that holds each) and pending approvals.
${COMMON}
`,
  approve: `usage: harborpilot approve <id> [options]

Approves a pending approval: the held push is applied by the next release run (within a minute, inside the
workload's maintenance window). Needs dynamodb:UpdateItem on the state table's approval#* items.
${COMMON}
`,
  rollback: `usage: harborpilot rollback <workload> [--reason TEXT] [options]

Returns the workload to the images it ran before its newest deployment, then freezes it (reason: --reason, or
"rolled back by <caller>"). ECS: StopServiceDeployment (ROLLBACK) while the newest deployment is in progress,
else the previous service revision's images pinned to their digests; EKS Deployments: the previous
ReplicaSet's images, as kubectl rollout undo.
  <workload>     ecs/<cluster>/<service> or eks/<cluster>/<namespace>/deployment/<name>
${COMMON}
`,
  release: `usage: harborpilot release <repository>@<digest> --reason TEXT [options]

Releases an image the scan gate holds (its scan found too much, or failed): the workloads it held move to it at
the next release run (within a minute), each once; the reconcile no longer holds it either. Needs
dynamodb:GetItem and dynamodb:UpdateItem on the state table's scan#* items.
  <repository>@<digest>  shop/api@sha256:..., or <account>.dkr.ecr.<region>.amazonaws.com/shop/api@sha256:...
                         (a bare name is in the caller's account and region)
  --reason TEXT          why it may be deployed anyway (kept with the release)
${COMMON}
`,
  reject: `usage: harborpilot reject <id> [options]

Rejects a pending approval: the held push is dropped.
${COMMON}
`,
};

/** `--until`: an absolute ISO time, or a duration from now. */
export function parseUntil(text: string, now: Date): Date {
  const d = /^(\d+)\s*(m|min|h|d)$/i.exec(text.trim());
  if (d) {
    const unit = { m: 60_000, min: 60_000, h: 3600_000, d: 86_400_000 }[d[2]?.toLowerCase() as 'm'] as number;
    return new Date(now.getTime() + Number(d[1]) * unit);
  }
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms))
    throw new HoldsUsageError(
      `--until "${text}" is not an ISO 8601 time (2026-12-24T18:00:00Z) or a duration (30m, 8h, 2d)`,
    );
  if (ms <= now.getTime())
    throw new HoldsUsageError(`--until ${text} has already passed (now ${now.toISOString()})`);
  return new Date(ms);
}

export interface HoldsDeps {
  store: HoldsStore;
  /** For release: the scan gate's items, and the caller's account and region (a bare repository name's). */
  scans?: ScanRecords;
  where?: () => Promise<{ accountId: string; region: string }>;
  /** For rollback: the workload's platform clients. */
  ecs?: ECSClient;
  kube?: (cluster: string) => Promise<KubeClient>;
  /** The caller's ARN (STS GetCallerIdentity). */
  caller: () => Promise<string>;
  now: Date;
}

export interface HoldsList {
  freezes: (Freeze & { active: boolean })[];
  held: HeldItem[];
  approvals: Approval[];
  /** Digests that failed or were rolled back on a workload: the failed-digest gate holds them there. */
  failed: FailedDigests[];
}

export async function listHolds(deps: HoldsDeps): Promise<HoldsList> {
  const [freezes, held, failed] = await Promise.all([
    deps.store.listFreezes(),
    deps.store.listHeld(),
    deps.store.listFailed(deps.now),
  ]);
  const approvals: Approval[] = [];
  for (const h of held) {
    const a = h.approvalId ? await deps.store.getApproval(h.approvalId) : undefined;
    if (a) approvals.push(a);
  }
  return {
    freezes: freezes.map((f) => ({ ...f, active: activeFreeze(f, deps.now) !== undefined })),
    held,
    approvals,
    failed,
  };
}

export function formatHolds(list: HoldsList): string {
  const rows: string[][] = [];
  for (const f of list.freezes)
    rows.push([
      f.workload,
      f.active ? 'frozen' : 'freeze ended',
      `by ${f.by} at ${f.at}${f.until ? ` until ${f.until}` : ''}: ${f.reason}`,
    ]);
  for (const h of list.held)
    rows.push([
      h.workload,
      `held (${h.gate})`,
      `${h.pushes.map((p) => `${p.repository.repositoryName}:${p.tag ?? ''}@${p.digest.slice(0, 19)}`).join(', ')}: ${h.reason}`,
    ]);
  for (const a of list.approvals)
    rows.push([
      a.workload,
      `approval ${a.approvalId} ${a.status}`,
      a.status === 'pending'
        ? `expires ${a.expiresAt}: npx harborpilot approve ${a.approvalId} | reject ${a.approvalId}`
        : `by ${a.decidedBy ?? '?'} at ${a.decidedAt ?? '?'}`,
    ]);
  for (const f of list.failed)
    for (const [digest, d] of Object.entries(f.digests))
      rows.push([
        f.workload,
        `failed digest (${d.container})`,
        `${digest.slice(0, 19)} ${d.outcome} at ${d.at} (${d.deployment}): ${d.reason}; a different digest deploys`,
      ]);
  return rows.length
    ? table(['WORKLOAD', 'HOLD', 'DETAIL'], rows)
    : 'no freezes, held pushes, approvals or failed digests';
}

export async function main(args: string[], command = 'holds'): Promise<number> {
  const usage = USAGE[command];
  if (!usage) throw new Error(`harborpilot: no holds command "${command}"`);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        reason: { type: 'string' },
        until: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
        world: { type: 'string' },
        table: { type: 'string' },
        'endpoint-url': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`${errorMessage(err, { name: false })}\n\n${usage}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(usage);
    return 0;
  }
  const wants = command === 'holds' ? 0 : 1;
  if (parsed.positionals.length !== wants) {
    process.stderr.write(usage);
    return 2;
  }
  const endpoint = typeof v['endpoint-url'] === 'string' ? v['endpoint-url'] : process.env.AWS_ENDPOINT_URL;
  const clientConfig = typeof v['endpoint-url'] === 'string' ? { endpoint: v['endpoint-url'] } : {};
  try {
    let tableName = typeof v.table === 'string' ? v.table : undefined;
    if (!tableName) {
      const configFile = v.config ?? process.env.HARBORPILOT_CONFIG_FILE;
      const config = await loadPlanConfig({
        file: String(configFile ?? 'harborpilot.yml'),
        explicit: configFile !== undefined,
        ...(typeof v.world === 'string' ? { world: v.world } : {}),
      });
      tableName = config.stateTable;
    }
    // Against the local cloud its simulated time decides windows and expiries, as it does for the functions.
    const now = endpoint ? await localCloudNow(endpoint).catch(() => new Date()) : new Date();
    const sts = new STSClient(clientConfig);
    const eks = new EKSClient(clientConfig);
    const dynamodb = new DynamoDBClient(clientConfig);
    const deps: HoldsDeps = {
      ecs: new ECSClient(clientConfig),
      kube: makeEksConnector({ eks }),
      store: new HoldsStore(stateDocument(dynamodb), tableName),
      scans: new ScanRecords(stateDocument(dynamodb), tableName),
      where: async () => ({
        accountId: (await sts.send(new GetCallerIdentityCommand({}))).Account ?? '',
        region: await sts.config.region(),
      }),
      caller: async () => (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'unknown caller',
      now,
    };
    const result = await run(command, parsed.positionals[0] ?? '', v, deps);
    if (v.json) process.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
    else if (result.code === 0) process.stdout.write(`${result.text}\n`);
    else process.stderr.write(`harborpilot ${command}: ${result.text}\n`);
    return result.code;
  } catch (err) {
    process.stderr.write(`harborpilot ${command}: ${errorMessage(err)}${refusalHint(err, command)}\n`);
    return err instanceof HoldsUsageError ? 2 : 1;
  }
}

/** AWS refused the caller: name the permission that decides, beside AWS's own error. */
function refusalHint(err: unknown, command: string): string {
  const name = (err as { name?: string } | null)?.name;
  if (name !== 'AccessDeniedException' && name !== 'UnrecognizedClientException') return '';
  const needs =
    command === 'approve' || command === 'reject'
      ? 'dynamodb:GetItem and dynamodb:UpdateItem on the state table for approval#* keys'
      : command === 'release'
        ? 'dynamodb:GetItem and dynamodb:UpdateItem on the state table for scan#* keys'
        : command === 'holds'
          ? 'dynamodb:GetItem and BatchGetItem on the state table for freeze#*, held#*, approval#* and failed#* keys'
          : 'dynamodb:GetItem, PutItem, DeleteItem and UpdateItem on the state table for freeze#* and held#* keys';
  return ` (refused by AWS: the caller needs ${needs}; see docs/safety.md)`;
}

async function run(
  command: string,
  target: string,
  v: Record<string, unknown>,
  deps: HoldsDeps,
): Promise<{ code: number; text: string; json: unknown }> {
  const dryRun = v['dry-run'] === true;
  const prefix = dryRun ? 'dry run: would have ' : '';
  if (command === 'holds') {
    const list = await listHolds(deps);
    return { code: 0, text: formatHolds(list), json: list };
  }
  if (command === 'release') return release(target, v, deps, dryRun);
  if (command === 'freeze' || command === 'unfreeze' || command === 'rollback') {
    let workload: string;
    try {
      workload = formatWorkloadId(parseWorkloadId(target));
    } catch (err) {
      throw new HoldsUsageError(errorMessage(err, { name: false }));
    }
    if (command === 'rollback') return rollback(parseWorkloadId(workload), v, deps, dryRun);
    if (command === 'unfreeze') {
      const was = dryRun ? await deps.store.getFreeze(workload) : await deps.store.deleteFreeze(workload);
      const text = was
        ? `${prefix}unfrozen ${workload} (frozen by ${was.by} at ${was.at}: ${was.reason}); a held push is applied by the next release run`
        : `${workload} was not frozen`;
      return { code: 0, text, json: { workload, unfrozen: was !== undefined, dryRun, was } };
    }
    const reason = typeof v.reason === 'string' ? v.reason.trim() : '';
    if (!reason) throw new HoldsUsageError('--reason TEXT is required: say why the workload is frozen');
    const until = typeof v.until === 'string' ? parseUntil(v.until, deps.now).toISOString() : undefined;
    const freeze: Freeze = {
      workload,
      by: await deps.caller(),
      at: deps.now.toISOString(),
      reason,
      ...(until ? { until } : {}),
    };
    if (!dryRun) await deps.store.putFreeze(freeze);
    return {
      code: 0,
      text: `${prefix}frozen ${workload}${until ? ` until ${until}` : ''} by ${freeze.by}: ${reason}`,
      json: { ...freeze, dryRun },
    };
  }
  // approve / reject
  const id = target.trim().toLowerCase();
  const decision = command === 'approve' ? 'approved' : 'rejected';
  const found = await deps.store.getApproval(id);
  const notPending = (a: Approval | undefined) =>
    !a
      ? `no approval ${id} (unknown or expired long ago: see harborpilot holds)`
      : a.status !== 'pending'
        ? `approval ${id} for ${a.workload} was already ${a.status} by ${a.decidedBy ?? '?'} at ${a.decidedAt ?? '?'}`
        : `approval ${id} for ${a.workload} expired at ${a.expiresAt}`;
  if (found?.status !== 'pending' || Date.parse(found.expiresAt) <= deps.now.getTime())
    return { code: 1, text: notPending(found), json: { id, decided: false, approval: found } };
  const by = await deps.caller();
  if (dryRun)
    return {
      code: 0,
      text: `${prefix}${decision} ${id} for ${found.workload} as ${by}: ${found.changes.join('; ')}`,
      json: { ...found, dryRun },
    };
  const decided = await deps.store.decide(id, decision, by, deps.now.toISOString());
  if (!decided)
    return { code: 1, text: notPending(await deps.store.getApproval(id)), json: { id, decided: false } };
  const next =
    decision === 'approved'
      ? 'the push is applied by the next release run (inside the workload maintenance window, if it has one)'
      : 'the held push is dropped';
  return {
    code: 0,
    text: `${decision} ${id} for ${decided.workload} as ${by}: ${decided.changes.join('; ')}; ${next}`,
    json: decided,
  };
}

/** Plans the rollback, applies it (or only says it, --dry-run), then freezes the workload. */
async function rollback(
  id: ReturnType<typeof parseWorkloadId>,
  v: Record<string, unknown>,
  deps: HoldsDeps,
  dryRun: boolean,
): Promise<{ code: number; text: string; json: unknown }> {
  const { ecs, kube: connect } = deps;
  if (!ecs || !connect) throw new Error('rollback needs ECS and EKS clients');
  // The CLI acts with the caller's own credentials in one account and region; another target's workload would
  // be read and moved in the wrong place. Said plainly instead (docs/organisation.md).
  if (id.scope)
    throw new HoldsUsageError(
      `${formatWorkloadId(id)} is in another target (account ${id.scope.accountId}, ${id.scope.region}): rollback acts in the caller's account only so far; roll it back there (aws ecs update-service --task-definition <previous> / kubectl rollout undo), then harborpilot freeze ${formatWorkloadId(id)}`,
    );
  const kube = id.platform === 'eks' ? await connect(id.cluster) : undefined;
  const plan: RollbackPlan =
    id.platform === 'ecs'
      ? await gatherEcsRollback(ecs, id)
      : await gatherEksRollback(kube as KubeClient, id);
  const by = await deps.caller();
  const reason = typeof v.reason === 'string' && v.reason.trim() ? v.reason.trim() : `rolled back by ${by}`;
  const moves = plan.moves.map((m) => `  ${m.container}: ${m.from} → ${m.to}`).join('\n');
  if (dryRun)
    return {
      code: 0,
      text: `dry run: would roll back ${plan.workload} (${plan.kind}) and freeze it: ${reason}\n${moves}`,
      json: { plan, reason, dryRun },
    };
  const done = await applyRollback(plan, { ecs, ...(kube ? { kube } : {}) });
  const freeze: Freeze = { workload: plan.workload, by, at: deps.now.toISOString(), reason };
  await deps.store.putFreeze(freeze);
  return {
    code: 0,
    text: `rolled back ${plan.workload}: ${done}\n${moves}\nfrozen: ${reason} (harborpilot unfreeze ${plan.workload} lets pushes move it again)`,
    json: { plan, done, freeze },
  };
}

/** `<repository>@<digest>` as the scan gate keys it: a bare name is in the caller's account and region. */
async function heldImage(
  target: string,
  deps: HoldsDeps,
): Promise<{ repository: RepositoryRef; digest: string }> {
  const at = target.lastIndexOf('@');
  const name = target.slice(0, at);
  const digest = target.slice(at + 1);
  if (at < 1 || !isDigest(digest))
    throw new HoldsUsageError(
      `"${target}" is not <repository>@<digest> (shop/api@sha256:..., as the email names it)`,
    );
  let ref: ReturnType<typeof parseImageRef>;
  try {
    ref = parseImageRef(name);
  } catch (err) {
    throw new HoldsUsageError(errorMessage(err, { name: false }));
  }
  if (ref.ecr) return { repository: { ...ref.ecr, repositoryName: ref.repository }, digest };
  if (!deps.where) throw new Error('release needs the caller account and region');
  return { repository: { ...(await deps.where()), repositoryName: name }, digest };
}

/** Releases an image the scan gate holds: one conditional UpdateItem on its scan# item, as the caller. */
async function release(
  target: string,
  v: Record<string, unknown>,
  deps: HoldsDeps,
  dryRun: boolean,
): Promise<{ code: number; text: string; json: unknown }> {
  const reason = typeof v.reason === 'string' ? v.reason.trim() : '';
  if (!reason)
    throw new HoldsUsageError('--reason TEXT is required: say why the image may be deployed anyway');
  if (!deps.scans) throw new Error('release needs the state table');
  const { repository, digest } = await heldImage(target, deps);
  const image = imageKeyOf(repository, digest);
  const name = `${repository.repositoryName}@${digest}`;
  const held = await deps.scans.get(image);
  if (!held)
    return {
      code: 1,
      text: `${name} is not held by the scan gate (in ${repository.accountId}, ${repository.region}): nothing to release`,
      json: { image, released: false },
    };
  const by = await deps.caller();
  const was = held.releasedAt ? ` (released before by ${held.releasedBy ?? '?'} at ${held.releasedAt})` : '';
  if (dryRun)
    return {
      code: 0,
      text: `dry run: would have released ${name} as ${by}: ${reason}; held because ${held.reason}${was}`,
      json: { ...held, dryRun },
    };
  const released = await deps.scans.release(image, by, reason, deps.now.toISOString());
  if (!released)
    return {
      code: 1,
      text: `${name} is no longer held (its item is gone)`,
      json: { image, released: false },
    };
  return {
    code: 0,
    text: `released ${name} as ${by}: ${reason}${was}; held because ${held.reason}. Every workload it holds (harborpilot holds) moves to it at the next release run, within a minute, each once`,
    json: released,
  };
}
