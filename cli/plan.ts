/**
 * `harborpilot plan push|prune|capacity`: what the functions would do now, computed by their own gather and
 * plan steps, changing nothing. Works against AWS (default credentials and region) or the local cloud
 * (AWS_ENDPOINT_URL or --endpoint-url). Tables for humans on stdout, `--json` for scripts; progress on stderr.
 * Exit codes: 0 done, 1 an error (named), 2 a usage error.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import { makeEksConnector } from '../shared/aws/eks-connect';
import { TargetCredentials, targetClients } from '../shared/aws/target-clients';
import { errorMessage } from '../shared/errors';
import { HoldsStore } from '../shared/holds/store';
import { stateDocument } from '../shared/state/document';
import { type Target, targetsOf } from '../shared/targets';
import { formatCapacityReport, planCapacityNow } from './plan/capacity';
import { loadPlanConfig, localCloudNow } from './plan/config';
import { formatPruneTable, planPruneNow } from './plan/prune';
import { formatPlanTable, PlanUsageError, planPush } from './plan/push';

export { formatPlanTable, type PlanPushResult, PlanUsageError, planPush } from './plan/push';

const COMMON = `  --json              machine-readable output on stdout
  --config FILE       harborpilot config (default: harborpilot.yml; HARBORPILOT_CONFIG_FILE)
  --world FILE        plan against the local cloud with its functions' config: the world's \`config:\`
                      merged over --config, as \`npm start\` does (e.g. worlds/demo.yml)
  --endpoint-url URL  AWS endpoint, e.g. the local cloud (default: AWS_ENDPOINT_URL, else AWS)
  --account ID|NAME   only this target account of harborpilot.yml's targets (repeatable; its id or name);
                      without it, every target and the caller's own account and region
  --region REGION     only targets in this region (repeatable), the caller's own included
  --progress          progress lines on stderr even when it is not a terminal
  --max-reads-per-second N
                      ECS calls a second at most (default: ecs.maxReadsPerSecond, 5): the share of the
                      account's ECS read budget the plan takes from other callers
  -h, --help          this help`;

const USAGE: Record<string, string> = {
  push: `usage: harborpilot plan push <image> [options]

What a push of <image> would redeploy on ECS and roll on EKS, and why the rest stays.
  <image>   an ECR image with a tag, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:latest
            (add @sha256:... to plan for a digest not pushed yet; otherwise the tag's digest is read from ECR)
${COMMON}
`,
  prune: `usage: harborpilot plan prune [options]

What pruneImages would delete now and why, and why every other image is kept, per repository, with totals.
  --repository NAME   only this repository (repeatable); the rest of the plan is the same
  --deletions-only    list only the images that would be deleted
${COMMON}
`,
  capacity: `usage: harborpilot plan capacity [options]

The capacity report checkCapacity would compute now: findings, headroom per service, node and node group.
${COMMON}
`,
};

const OVERVIEW = `usage: harborpilot plan <push|prune|capacity> [options]

  push <image>   what a push would redeploy (ECS) and roll (EKS)
  prune          what pruning would delete, and why the rest is kept
  capacity       the capacity report

Read-only. Run \`harborpilot plan <what> --help\` for the options.
`;

export async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
        world: { type: 'string' },
        'endpoint-url': { type: 'string' },
        repository: { type: 'string', multiple: true },
        account: { type: 'string', multiple: true },
        region: { type: 'string', multiple: true },
        progress: { type: 'boolean', default: false },
        'deletions-only': { type: 'boolean', default: false },
        'max-reads-per-second': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`${errorMessage(err, { name: false })}\n\n${OVERVIEW}`);
    return 2;
  }
  const [what, ...rest] = parsed.positionals;
  const v = parsed.values;
  const usage = what ? USAGE[what] : undefined;
  if (v.help) {
    process.stdout.write(usage ?? OVERVIEW);
    return 0;
  }
  if (!what || !usage) {
    process.stderr.write(`${what ? `harborpilot plan: unknown plan "${what}"\n\n` : ''}${OVERVIEW}`);
    return 2;
  }
  if ((what === 'push' && rest.length !== 1) || (what !== 'push' && rest.length !== 0)) {
    process.stderr.write(usage);
    return 2;
  }
  const repositories = (v.repository ?? []) as string[];
  if (what !== 'prune' && (repositories.length > 0 || v['deletions-only'])) {
    process.stderr.write(
      `harborpilot plan ${what}: --repository and --deletions-only are options of plan prune\n\n${usage}`,
    );
    return 2;
  }

  const showProgress = v.progress === true || process.stderr.isTTY === true;
  const progress = showProgress ? (line: string) => process.stderr.write(`${line}\n`) : undefined;
  const endpoint = typeof v['endpoint-url'] === 'string' ? v['endpoint-url'] : undefined;
  const clientConfig = endpoint ? { endpoint } : {};
  const world = typeof v.world === 'string' ? v.world : undefined;
  const localEndpoint = endpoint ?? process.env.AWS_ENDPOINT_URL;
  if (world && !localEndpoint) {
    process.stderr.write(
      `harborpilot plan ${what}: --world plans against the local cloud: give --endpoint-url or AWS_ENDPOINT_URL\n`,
    );
    return 2;
  }
  const readsFlag = v['max-reads-per-second'];
  const readsPerSecond = typeof readsFlag === 'string' ? Number(readsFlag) : undefined;
  if (
    readsPerSecond !== undefined &&
    !(Number.isInteger(readsPerSecond) && readsPerSecond >= 1 && readsPerSecond <= 1000)
  ) {
    process.stderr.write(
      `harborpilot plan ${what}: --max-reads-per-second must be a whole number from 1 to 1000, not "${readsFlag}"\n\n${usage}`,
    );
    return 2;
  }
  try {
    const configFile = v.config ?? process.env.HARBORPILOT_CONFIG_FILE;
    const loaded = await loadPlanConfig({
      file: String(configFile ?? 'harborpilot.yml'),
      explicit: configFile !== undefined,
      ...(world ? { world } : {}),
    });
    const config =
      readsPerSecond === undefined
        ? loaded
        : { ...loaded, ecs: { ...loaded.ecs, maxReadsPerSecond: readsPerSecond } };
    // With --world the plan is the local cloud's: its config and its simulated time.
    const now = world && localEndpoint ? await localCloudNow(localEndpoint) : undefined;
    const ecs = new ECSClient(clientConfig);
    const ecr = new ECRClient(clientConfig);
    const eks = new EKSClient(clientConfig);
    const connect = makeEksConnector({ eks });
    const region = await ecr.config.region();
    // The targets of harborpilot.yml (docs/organisation.md), entered with the caller's credentials through each
    // target's role: the role's trust must name the caller too (docs/organisation.md#planning-across-targets).
    const targets = pickTargets(targetsOf(config, region), {
      accounts: (v.account ?? []) as string[],
      regions: (v.region ?? []) as string[],
    });
    const credentials = new TargetCredentials({
      functionName: 'plan',
      stsRegion: region,
      ...(endpoint ? { stsClientConfig: { endpoint } } : {}),
    });
    const base = {
      config,
      ecs,
      ecr,
      eks,
      connect,
      targets: {
        ecs: targetClients(targets, ecs, credentials, (c) => new ECSClient({ ...clientConfig, ...c })),
        eks: targetClients(targets, eks, credentials, (c) => new EKSClient({ ...clientConfig, ...c })),
      },
      ...(progress ? { progress } : {}),
      ...(now ? { now } : {}),
    };
    let text: string;
    let json: unknown;
    let incomplete = false;
    if (what === 'push') {
      const holds = new HoldsStore(stateDocument(new DynamoDBClient(clientConfig)), config.stateTable);
      const result = await planPush(rest[0] as string, { ...base, holds });
      [json, text, incomplete] = [result, formatPlanTable(result), result.failures.length > 0];
    } else if (what === 'prune') {
      const result = await planPruneNow({ ...base, region: await ecr.config.region(), repositories });
      [json, text] = [result, formatPruneTable(result, { kept: v['deletions-only'] !== true })];
    } else {
      const report = await planCapacityNow({ ...base, kube: connect });
      // Across targets, one that could not be read is a finding of the report: printed, and the exit code says so.
      [json, text, incomplete] = [
        report,
        formatCapacityReport(report),
        report.findings.some((f) => f.kind === 'target-unreadable'),
      ];
    }
    process.stdout.write(v.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
    // A plan with parts that could not be read is printed, and the exit code says it is incomplete.
    return incomplete ? 1 : 0;
  } catch (err) {
    process.stderr.write(`harborpilot plan ${what}: ${errorMessage(err, { name: false })}\n`);
    return err instanceof PlanUsageError ? 2 : 1;
  }
}

/**
 * `--account` and `--region`: the targets to plan in. An account is a target's id or name (one not among the
 * targets is a usage error, named); the caller's own account and region are planned in unless `--account` is
 * given, and only in a `--region` given.
 */
export function pickTargets(
  targets: readonly Target[],
  o: { accounts: readonly string[]; regions: readonly string[] },
): Target[] {
  for (const a of o.accounts) {
    if (!targets.some((t) => !t.home && (t.accountId === a || t.name === a)))
      throw new PlanUsageError(
        `--account ${a}: not an account of harborpilot.yml's targets (its id or name)`,
      );
  }
  const picked = targets.filter(
    (t) =>
      (o.accounts.length === 0
        ? true
        : !t.home && o.accounts.some((a) => a === t.accountId || a === t.name)) &&
      (o.regions.length === 0 || o.regions.includes(t.region)),
  );
  if (picked.length === 0)
    throw new PlanUsageError(
      `no target in ${o.regions.join(', ')}${o.accounts.length ? ` for ${o.accounts.join(', ')}` : ''}`,
    );
  // The home target's client stands first when it is planned in.
  return picked;
}
