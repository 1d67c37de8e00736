// PLACEHOLDER (owner: ECR/SES helper) — replaced by the real backend.
import type { LocalCloudCore, RestRoute } from '../types';
import type { SesWorld } from './world';

export class SesBackend {
  readonly routes: RestRoute[] = [];
  constructor(readonly core: LocalCloudCore) {}
  /** Every accepted message, in the shape LocalStack serves at GET /_aws/ses. */
  messages(): unknown[] {
    return [];
  }
  loadWorld(_world: SesWorld): void {}
}
