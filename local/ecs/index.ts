// PLACEHOLDER (owner: ECS helper) — replaced by the real backend.
import type { JsonOperations, LocalCloudCore } from '../types';
import type { EcsWorld } from './world';

export class EcsBackend {
  readonly operations: JsonOperations = {};
  constructor(readonly core: LocalCloudCore) {}
  loadWorld(_world: EcsWorld): void {}
}
