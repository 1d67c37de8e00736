/** A LocalCloudCore for backend unit tests: manual clock, real bus, faults a test can set. */
import { EventBus } from '../../../bus';
import { SimClock } from '../../../clock';
import type { Faults, LocalCloudCore, RequestContext } from '../../../types';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const ctx: RequestContext = { accountId: ACCOUNT, region: REGION, accessKeyId: 'test' };

export function makeCore(start = new Date('2026-03-01T12:00:00Z')) {
  const clock = new SimClock(start);
  const bus = new EventBus(clock);
  const pullFailures = new Map<string, string>();
  const faults: Faults = {
    latencyMs: 0,
    shouldThrottle: () => false,
    pullFailure: (repositoryName) => pullFailures.get(repositoryName),
    containerFault: () => undefined,
  };
  const core: LocalCloudCore = {
    clock,
    bus,
    faults,
    images: { resolve: () => ({ error: 'not wired' }) },
    defaultAccountId: ACCOUNT,
    defaultRegion: REGION,
  };
  return { core, clock, bus, pullFailures };
}
