/**
 * Every event the local cloud emits (ECR pushes, ECS task/deployment/service events, PutEvents)
 * goes through the bus in EventBridge's envelope; the router subscribes and invokes functions.
 */
import { randomUUID } from 'node:crypto';
import type { SimClock } from './clock';

export interface CloudEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface PublishInput {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  resources?: string[];
  account: string;
  region: string;
}

/** Where an event is put: an event bus of an account in a region (`default` unless PutEvents names another). */
export interface BusAddress {
  account: string;
  region: string;
  name: string;
}

/** `on` is the bus the event was put on: the default bus of its account and region unless PutEvents named one. */
export type Subscriber = (event: CloudEvent, on: BusAddress) => void | Promise<void>;

export class EventBus {
  readonly history: CloudEvent[] = [];
  private subscribers: Subscriber[] = [];

  constructor(
    private readonly clock: SimClock,
    private readonly maxHistory = 10_000,
  ) {}

  subscribe(fn: Subscriber): () => void {
    this.subscribers.push(fn);
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== fn);
    };
  }

  /** Delivers to subscribers asynchronously, as EventBridge does; returns the event as delivered. */
  publish(input: PublishInput): CloudEvent {
    const event: CloudEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': input.detailType,
      source: input.source,
      account: input.account,
      time: this.clock
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      region: input.region,
      resources: input.resources ?? [],
      detail: input.detail,
    };
    this.publishEvent(event);
    return event;
  }

  /**
   * For events that already have an envelope (PutEvents, replays of a duplicate delivery). `on` is the bus it is
   * put on: by default the default bus of the event's own account and region, where AWS services emit theirs.
   */
  publishEvent(event: CloudEvent, on?: BusAddress): void {
    const bus = on ?? { account: event.account, region: event.region, name: 'default' };
    this.history.push(event);
    if (this.history.length > this.maxHistory) this.history.splice(0, this.history.length - this.maxHistory);
    for (const s of this.subscribers) queueMicrotask(() => void s(event, bus));
  }
}
