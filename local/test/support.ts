/** Helpers for the local cloud's own integration tests: SDK and AWS CLI settings that point at a running cloud. */
import type { LocalCloud } from '../cloud';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
export const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;

/** SDK client settings pointing at the local cloud, as AWS_ENDPOINT_URL would. */
export const clientConfig = (cloud: Pick<LocalCloud, 'endpoint'>) => ({
  endpoint: cloud.endpoint,
  region: REGION,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

/** The environment a user exports for the AWS CLI against the local cloud. */
export const cliEnv = (cloud: Pick<LocalCloud, 'endpoint'>): NodeJS.ProcessEnv => ({
  ...process.env,
  AWS_ENDPOINT_URL: cloud.endpoint,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: REGION,
  AWS_DEFAULT_REGION: REGION,
});
