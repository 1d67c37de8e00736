/**
 * GET /_harborpilot/stream: what happens in the local cloud, as it happens, as server-sent events, so the
 * console never polls. Built on the records that already exist (the bus, the router's invocations and dead
 * letters, SES's sent mail, the Kubernetes stores) through their listener hooks; it subscribes while at least
 * one client is connected and costs nothing otherwise.
 *
 * Events: `hello` (recent history on connect), `bus` (an event on the bus), `invocation` (an attempt starts
 * or ends, with its logs), `deadLetter`, `mail`, `faults` and `clock` (after a change through the admin
 * API), and `fleet`: a hint, at most a few times a second, that the fleet changed and
 * GET /_harborpilot/fleet would answer something new.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBus } from '../bus';
import type { SimClock } from '../clock';
import type { EksBackend } from '../eks';
import type { LocalFaults } from '../faults';
import type { Router } from '../router';
import type { SesBackend } from '../ses';

export interface StreamDeps {
  bus: EventBus;
  router: Router;
  ses: SesBackend;
  eks: EksBackend;
  faults: LocalFaults;
  clock: SimClock;
}

/** How much history a new client gets: enough to fill the activity page. */
const HELLO_EVENTS = 100;
const HELLO_INVOCATIONS = 100;
/** A fleet hint waits this long for more changes: one snapshot per burst of task transitions. */
const FLEET_HINT_MS = 300;
/** A comment line now and then keeps proxies and idle timers from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

export class ConsoleStream {
  private readonly clients = new Set<ServerResponse>();
  private unsubscribe: (() => void)[] = [];
  private fleetTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly deps: StreamDeps) {}

  connect(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    req.socket.setNoDelay(true);
    if (this.clients.size === 0) this.subscribe();
    this.clients.add(res);
    const { bus, router, faults, clock } = this.deps;
    send(res, 'hello', {
      events: bus.history.slice(-HELLO_EVENTS),
      invocations: [...router.invocations(), ...router.runningInvocations()].slice(-HELLO_INVOCATIONS),
      deadLetters: router.deadLetters(),
      faults: faults.list(),
      clock: clockState(clock),
    });
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.unsubscribeAll();
    });
  }

  /** The admin API changed something no record announces (faults, the clock's speed). */
  changed(what: 'faults' | 'clock'): void {
    if (this.clients.size === 0) return;
    if (what === 'faults') this.broadcast('faults', { faults: this.deps.faults.list() });
    else this.broadcast('clock', clockState(this.deps.clock));
    this.fleetChanged();
  }

  /** Ends every stream (the cloud stops). */
  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.unsubscribeAll();
  }

  private subscribe(): void {
    const { bus, router, ses, eks } = this.deps;
    this.unsubscribe = [
      bus.subscribe((event) => {
        this.broadcast('bus', event);
        this.fleetChanged();
      }),
      router.subscribe((activity) => {
        if (activity.type === 'invocation') this.broadcast('invocation', activity.invocation);
        else this.broadcast('deadLetter', activity.deadLetter);
      }),
      ses.onSend((message) => this.broadcast('mail', message)),
      ...eks.overview().map((c) => c.kube.store.onChange(() => this.fleetChanged())),
    ];
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) res.write(': ping\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private unsubscribeAll(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    clearInterval(this.heartbeat);
    clearTimeout(this.fleetTimer);
    this.heartbeat = undefined;
    this.fleetTimer = undefined;
  }

  private fleetChanged(): void {
    if (this.fleetTimer || this.clients.size === 0) return;
    this.fleetTimer = setTimeout(() => {
      this.fleetTimer = undefined;
      this.broadcast('fleet', { now: this.deps.clock.now().toISOString() });
    }, FLEET_HINT_MS);
    this.fleetTimer.unref();
  }

  private broadcast(event: string, data: unknown): void {
    for (const res of this.clients) send(res, event, data);
  }
}

function send(res: ServerResponse, event: string, data: unknown): void {
  // JSON.stringify never writes a raw newline, so one `data:` line carries the whole record.
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function clockState(clock: SimClock) {
  return { now: clock.now().toISOString(), speed: clock.speed, pendingTimers: clock.pendingTimers() };
}
