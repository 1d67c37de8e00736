/**
 * The local cloud's simulated clock. Deployments, task transitions, alert windows and schedules all
 * run on it. `speed` is simulated milliseconds per real millisecond (the demo runs fast); speed 0 is
 * manual, for tests, which move time with `advance`.
 */
export type TimerId = number;

interface Timer {
  id: TimerId;
  at: number;
  fn: () => unknown;
}

export class SimClock {
  private current: number;
  private timers: Timer[] = [];
  private nextId = 1;
  private driver: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  /** start() was called and stop() not since: a speed change keeps (or starts) the real-time driver. */
  private driven = false;
  private tickMs = 50;
  private currentSpeed: number;

  constructor(start: Date = new Date(), speed = 0) {
    this.current = start.getTime();
    this.currentSpeed = speed;
  }

  /** Simulated ms per real ms; 0 is a manual clock. */
  get speed(): number {
    return this.currentSpeed;
  }

  /** Changes the speed from now on (the console's and the admin API's control); 0 stops time. */
  setSpeed(speed: number): void {
    if (!(speed >= 0) || !Number.isFinite(speed)) throw new RangeError(`not a clock speed: ${speed}`);
    this.currentSpeed = speed;
    if (this.driver) clearInterval(this.driver);
    this.driver = undefined;
    if (this.driven) this.start(this.tickMs);
  }

  now(): Date {
    return new Date(this.current);
  }

  nowMs(): number {
    return this.current;
  }

  /** Runs `fn` once `delayMs` of simulated time has passed. */
  setTimer(delayMs: number, fn: () => unknown): TimerId {
    const id = this.nextId++;
    this.timers.push({ id, at: this.current + Math.max(0, delayMs), fn });
    this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
    return id;
  }

  clearTimer(id: TimerId): void {
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in order and awaiting each (timers may add timers). */
  advance(ms: number): Promise<void> {
    const target = this.current + ms;
    this.running = this.running.then(async () => {
      for (;;) {
        const next = this.timers[0];
        if (!next || next.at > target) break;
        this.timers.shift();
        this.current = Math.max(this.current, next.at);
        await next.fn();
      }
      this.current = Math.max(this.current, target);
    });
    return this.running;
  }

  /** Advances until no timer is due within `maxMs` (for tests: "let everything settle"). */
  async runUntilIdle(maxMs = 24 * 3600_000): Promise<void> {
    const limit = this.current + maxMs;
    for (;;) {
      const next = this.timers[0];
      if (!next || next.at > limit) return;
      await this.advance(next.at - this.current);
    }
  }

  /** Drives the clock in real time at `speed`; no-op for a manual clock. */
  start(tickMs = 50): void {
    this.driven = true;
    this.tickMs = tickMs;
    if (this.speed <= 0 || this.driver) return;
    this.driver = setInterval(() => void this.advance(tickMs * this.speed), tickMs);
    this.driver.unref();
  }

  stop(): void {
    this.driven = false;
    if (this.driver) clearInterval(this.driver);
    this.driver = undefined;
  }
}
