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
import {
  createLocalCloud as createGenericCloud,
  type LocalCloud as GenericCloud,
  type LocalCloudOptions as GenericOptions,
} from '../../local/cloud';
import { type Config, ConfigSchema, mergeConfig } from '../../shared/config';
import { configDocument } from '../../shared/config-file';
import { createStateTable } from '../../shared/state/table';

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
      await createStateTable(
        new DynamoDBClient({
          endpoint: started.endpoint,
          region: started.world.region,
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        }),
        config.stateTable,
      );
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
