// PLACEHOLDER (owner: EKS helper) — replaced by the real backend.
import type { LocalCloudCore, RestRoute } from '../types';
import type { EksWorld } from './world';

export class EksBackend {
  readonly routes: RestRoute[] = [];
  constructor(readonly core: LocalCloudCore) {}
  /** Starts the HTTPS Kubernetes API servers of the clusters. */
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  loadWorld(_world: EksWorld): void {}
}
