// PLACEHOLDER (owner: router helper) — replaced by the real router.
import type { LocalCloudCore } from '../types';

export interface RouterOptions {
  /** Path of serverless.yml; its functions, eventBridge patterns and schedules drive the routing. */
  serverlessYml: string;
  /** Environment given to every handler (AWS_ENDPOINT_URL, credentials, HARBORPILOT_CONFIG ...). */
  env: Record<string, string>;
}

export interface Invocation {
  id: string;
  functionName: string;
  trigger: 'event' | 'schedule' | 'manual';
  eventId: string;
  attempt: number;
  startedAt: string;
  durationMs: number;
  status: 'succeeded' | 'failed';
  error?: string;
  result?: unknown;
}

export class Router {
  constructor(
    readonly core: LocalCloudCore,
    readonly options: RouterOptions,
  ) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  invocations(): Invocation[] {
    return [];
  }
  deadLetters(): unknown[] {
    return [];
  }
  async runSchedule(_functionName: string): Promise<Invocation[]> {
    return [];
  }
}
