/**
 * harborpilot on the local cloud: the one place that knows both halves. It starts the generic local cloud
 * (local/) with harborpilot's serverless.yml, gives the functions the config `serverless deploy` would
 * (harborpilot.yml with the world's `config:` merged over it, as HARBORPILOT_CONFIG) and creates the state
 * table before the first event. `harborpilot local`, the product's integration tests and the bench start
 * the local cloud through `createLocalCloud` here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EKSClient } from '@aws-sdk/client-eks';
import {
  createLocalCloud as createGenericCloud,
  type LocalCloud as GenericCloud,
  type LocalCloudOptions as GenericOptions,
} from '../../local/cloud';
import { makeEksConnector } from '../../shared/aws/eks-connect';
import { type Config, ConfigSchema, mergeConfig } from '../../shared/config';
import { configDocument } from '../../shared/config-file';
import { createStateTable } from '../../shared/state/table';
import { planPruneNow } from '../plan/prune';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export { DEFAULT_SPEED } from '../../local/cloud';

export interface LocalCloudOptions extends Omit<GenericOptions, 'configSchema' | 'onStart'> {
  /** harborpilot.yml the functions' config starts from (default: the repository's, when present). */
  configFile?: string;
}

export interface LocalCloud extends GenericCloud {
  /** The config the functions run with (harborpilot.yml merged with the world's `config:`). */
  readonly config: Config;
}

export async function createLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const configFile = options.configFile ?? `${REPO_ROOT}harborpilot.yml`;
  let config: Config | undefined;
  const cloud = await createGenericCloud({
    ...options,
    serverlessYml: options.serverlessYml ?? `${REPO_ROOT}serverless.yml`,
    configSchema: ConfigSchema,
    async onStart(started) {
      config = functionConfig(configFile, started.world.config);
      // What `serverless deploy` resolves into provider.environment; the caller's functionEnv still wins.
      Object.assign(started.functionEnv, {
        // The functions run on nodejs22.x in Lambda, where the SDK has no Node version warning to print; here a
        // Node 20 worker would print its seven lines at every cold start.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        HARBORPILOT_CONFIG: JSON.stringify(config),
        HARBORPILOT_TABLE: config.stateTable,
        ...options.functionEnv,
      });
      const clientConfig = {
        endpoint: started.endpoint,
        region: started.world.region,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      };
      await createStateTable(new DynamoDBClient(clientConfig), config.stateTable);
      const pruneConfig = config;
      started.views.prune = () => prunePlanView(pruneConfig, clientConfig, started.clock.now());
    },
  });
  if (!config) throw new Error('the local cloud started without its start-up hook');
  return Object.assign(cloud, { config });
}

/** harborpilot.yml (when present) with the world's `config:` merged over it, validated. */
function functionConfig(configFile: string, worldConfig: Record<string, unknown> | undefined): Config {
  const base = existsSync(configFile) ? configDocument(readFileSync(configFile, 'utf8'), configFile) : {};
  return mergeConfig(base, worldConfig ?? {}, `${configFile} + world config`);
}

/**
 * The console's prune column: what `harborpilot plan prune` says now (pruneImages's own gather and plan,
 * read-only, at the local cloud's simulated time), one verdict and its reasons per image.
 */
async function prunePlanView(
  config: Config,
  clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  },
  now: Date,
) {
  const ecr = new ECRClient(clientConfig);
  const eks = new EKSClient(clientConfig);
  const result = await planPruneNow({
    ecr,
    ecs: new ECSClient(clientConfig),
    eks,
    connect: makeEksConnector({ eks }),
    config,
    region: clientConfig.region,
    now,
  });
  return {
    dryRun: config.prune.dryRun,
    now: now.toISOString(),
    region: clientConfig.region,
    repositories: result.plan.repositories.map((rp) => ({
      name: rp.repository.repositoryName,
      images: [
        ...rp.kept.map((k) => ({
          digest: k.image.digest,
          verdict: 'keep' as const,
          why: k.reasons.map((r) => `${r.rule}: ${r.detail}`),
        })),
        ...rp.deleted.map((d) => ({ digest: d.image.digest, verdict: 'delete' as const, why: [d.why] })),
      ],
    })),
  };
}
