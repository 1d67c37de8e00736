/**
 * `harborpilot plan push <image>`: what a push of this image would redeploy, and why every other service
 * using the repository stays, computed by redeployEcs's own gather and plan steps. Read-only: no write API
 * is ever called. Works against AWS (default credentials) or the local cloud (AWS_ENDPOINT_URL or
 * --endpoint-url).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { type Config, parseConfigYaml } from '../shared/config';
import { gatherServices } from '../shared/ecs/gather';
import type { ImagePush, RedeployPlan } from '../shared/ecs/model';
import { planRedeploy } from '../shared/ecs/plan';
import { type Digest, isDigest, isInRepository, parseImageRef } from '../shared/image-ref';

export class PlanUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanUsageError';
  }
}

const USAGE = `usage: harborpilot plan push <image> [--json] [--config FILE] [--endpoint-url URL]

  <image>   an ECR image with a tag, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:latest
            (add @sha256:... to plan for a digest not pushed yet; otherwise the tag's digest is read from ECR)
`;

export interface PlanPushResult {
  image: string;
  digest: Digest;
  services: number;
  plan: RedeployPlan;
}

export interface PlanPushDeps {
  ecs: ECSClient;
  ecr: ECRClient;
  config: Config;
  progress?: (line: string) => void;
}

export async function planPush(image: string, deps: PlanPushDeps): Promise<PlanPushResult> {
  let ref: ReturnType<typeof parseImageRef>;
  try {
    ref = parseImageRef(image);
  } catch (err) {
    throw new PlanUsageError((err as Error).message);
  }
  if (!ref.ecr)
    throw new PlanUsageError(
      `"${image}" is not an ECR image (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>)`,
    );
  if (!ref.tag) throw new PlanUsageError(`"${image}" has no tag: a push is planned by its tag`);
  const repository = { ...ref.ecr, repositoryName: ref.repository };
  let digest = ref.digest;
  if (!digest) {
    const out = await deps.ecr.send(
      new DescribeImagesCommand({
        registryId: repository.accountId,
        repositoryName: repository.repositoryName,
        imageIds: [{ imageTag: ref.tag }],
      }),
    );
    const found = out.imageDetails?.[0]?.imageDigest;
    if (!found || !isDigest(found))
      throw new PlanUsageError(`ECR has no image ${repository.repositoryName}:${ref.tag}`);
    digest = found;
  }
  const push: ImagePush = { repository, tag: ref.tag, digest };
  deps.progress?.(
    `reading ECS services of ${deps.config.ecs.clusters.length ? deps.config.ecs.clusters.join(', ') : 'every cluster'}...`,
  );
  const inRepo = (img: string) => {
    try {
      return isInRepository(parseImageRef(img), repository);
    } catch {
      return false;
    }
  };
  const gathered = await gatherServices(deps.ecs, {
    clusters: deps.config.ecs.clusters,
    isRelevantImage: inRepo,
  });
  for (const f of gathered.failures) deps.progress?.(`could not read ${f.item}: ${f.error}`);
  const services = gathered.services.filter((s) => s.containers.some((c) => inRepo(c.image)));
  deps.progress?.(
    `${gathered.services.length} services read, ${services.length} use ${repository.repositoryName}`,
  );
  return {
    image,
    digest,
    services: services.length,
    plan: planRedeploy(services, [push], deps.config.ecs.defaultPolicy),
  };
}

const name = (arn: string) => arn.slice(arn.indexOf('/') + 1);

/** One row per service: what a human scanning the plan needs. */
export function formatPlanTable(result: PlanPushResult): string {
  const rows: string[][] = [['SERVICE', 'ACTION', 'DETAIL']];
  for (const a of result.plan.actions) {
    for (const c of a.changes)
      rows.push([name(a.serviceArn), a.type, `${c.containerName}: ${c.reason} → ${c.toImage}`]);
  }
  for (const s of result.plan.skips) rows.push([name(s.serviceArn), 'skip', s.reason]);
  for (const e of result.plan.errors) rows.push([name(e.serviceArn), 'error', e.error]);
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map(
    (r) => `${(r[0] ?? '').padEnd(widths[0] ?? 0)}  ${(r[1] ?? '').padEnd(widths[1] ?? 0)}  ${r[2] ?? ''}`,
  );
  const header = `push of ${result.image} (${result.digest}): ${result.plan.actions.length} of ${result.services} service(s) would move`;
  return [header, '', ...(rows.length > 1 ? lines : ['no ECS service uses this repository'])].join('\n');
}

export async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        config: { type: 'string', default: 'harborpilot.yml' },
        'endpoint-url': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [what, image] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (what !== 'push' || !image) {
    process.stderr.write(`${what && what !== 'push' ? `plan ${what} is not available yet\n\n` : ''}${USAGE}`);
    return 2;
  }
  const configFile = String(parsed.values.config);
  let configText = '{}';
  try {
    configText = readFileSync(configFile, 'utf8');
  } catch {
    // No file: the defaults, as at cold start without HARBORPILOT_CONFIG.
  }
  const config = parseConfigYaml(configText, configFile);
  const endpoint = parsed.values['endpoint-url'];
  const clientConfig = typeof endpoint === 'string' ? { endpoint } : {};
  try {
    const result = await planPush(image, {
      config,
      ecs: new ECSClient(clientConfig),
      ecr: new ECRClient(clientConfig),
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(
      parsed.values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatPlanTable(result)}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`harborpilot plan: ${(err as Error).message}\n`);
    return err instanceof PlanUsageError ? 2 : 1;
  }
}
