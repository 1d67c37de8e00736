// PLACEHOLDER (owner: ECR/SES helper) — replaced by the real backend.
import type { ImageResolver, JsonOperations, LocalCloudCore } from '../types';
import type { EcrWorld } from './world';

export class EcrBackend {
  readonly operations: JsonOperations = {};
  readonly resolver: ImageResolver = {
    resolve: () => ({ error: 'CannotPullContainerError: not implemented' }),
  };
  constructor(readonly core: LocalCloudCore) {}
  loadWorld(_world: EcrWorld): void {}
}
