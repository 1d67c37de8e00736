/**
 * A fake LocalCloudCore for ECS tests: manual clock, real bus, a settable image resolver and faults. Pull failures
 * are the local cloud's own LocalFaults (what the admin API and world files add and remove), consulted by the
 * resolver as ECR does and by the scheduler at each pull.
 */
import { EventBus } from '../../../bus';
import { SimClock } from '../../../clock';
import { EcsBackend } from '../../../ecs';
import { LocalFaults } from '../../../faults';
import { readImageReference } from '../../../image-reference';
import type { Faults, LocalCloudCore, RequestContext } from '../../../types';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
export const ctx: RequestContext = { accountId: ACCOUNT, region: REGION, accessKeyId: 'test' };

export function makeEcs() {
  const clock = new SimClock(new Date('2026-03-01T12:00:00Z'));
  const bus = new EventBus(clock);
  /** Current digest per image reference; a missing image fails to pull. */
  const digests = new Map<string, string>();
  const containerFaults = new Map<string, ReturnType<Faults['containerFault']>>();
  const localFaults = new LocalFaults({ accountId: ACCOUNT, region: REGION, now: () => clock.nowMs() });
  const faults: Faults = {
    latencyMs: 0,
    shouldThrottle: () => false,
    pullFailure: (repository, digest) => localFaults.pullFailure(repository, digest),
    containerFault: (family) => containerFaults.get(family),
  };
  const core: LocalCloudCore = {
    clock,
    bus,
    faults,
    images: {
      resolve: (image) => {
        const injected = localFaults.pullFailure(readImageReference(image).path);
        if (injected) return { error: injected };
        const digest = digests.get(image);
        return digest
          ? { digest }
          : {
              error: `CannotPullContainerError: pull image manifest has been retried 1 time(s): ${image}: not found`,
            };
      },
    },
    defaultAccountId: ACCOUNT,
    defaultRegion: REGION,
  };
  const ecs = new EcsBackend(core);
  const call = async (op: string, input: Record<string, unknown> = {}) => {
    const fn = ecs.operations[op];
    if (!fn) throw new Error(`missing op ${op}`);
    // Round-trip through JSON as the wire does.
    return JSON.parse(JSON.stringify(await fn(input, ctx)));
  };
  return { clock, bus, digests, containerFaults, faults: localFaults, ecs, call };
}
