/**
 * One SES account in one region: its identities and its sending limits. Quotas count recipients,
 * as SES does: a message to five recipients uses five of the daily quota and five seconds of a
 * one-a-second rate.
 */
import type { SimClock } from '../clock';

export type IdentityType = 'EMAIL_ADDRESS' | 'DOMAIN';

export interface EmailIdentity {
  name: string;
  type: IdentityType;
  createdAt: Date;
  tags: { Key: string; Value: string }[];
}

export const SANDBOX = { max24HourSend: 200, maxSendRate: 1 } as const;
export const PRODUCTION = { max24HourSend: 50_000, maxSendRate: 14 } as const;
const DAY_MS = 24 * 3600_000;

export class SesAccount {
  readonly identities = new Map<string, EmailIdentity>();
  production = false;
  sendingEnabled = true;
  max24HourSend: number = SANDBOX.max24HourSend;
  maxSendRate: number = SANDBOX.maxSendRate;
  private sends: { atMs: number; recipients: number }[] = [];
  private tokens: number = SANDBOX.maxSendRate;
  private refilledAt: { simMs: number; realMs: number };

  constructor(private readonly clock: SimClock) {
    this.refilledAt = { simMs: clock.nowMs(), realMs: Date.now() };
  }

  setLimits(limits: { production: boolean; max24HourSend?: number; maxSendRate?: number }): void {
    const defaults = limits.production ? PRODUCTION : SANDBOX;
    this.production = limits.production;
    this.max24HourSend = limits.max24HourSend ?? defaults.max24HourSend;
    this.maxSendRate = limits.maxSendRate ?? defaults.maxSendRate;
    this.tokens = Math.max(1, this.maxSendRate);
  }

  /** An address is verified by its own identity, or by its domain's or a parent domain's. */
  isVerified(address: string): boolean {
    const lower = address.toLowerCase();
    if (this.identities.has(lower)) return true;
    let domain = lower.slice(lower.lastIndexOf('@') + 1);
    for (;;) {
      if (this.identities.get(domain)?.type === 'DOMAIN') return true;
      const dot = domain.indexOf('.');
      if (dot < 0) return false;
      domain = domain.slice(dot + 1);
    }
  }

  sentLast24Hours(): number {
    const since = this.clock.nowMs() - DAY_MS;
    this.sends = this.sends.filter((s) => s.atMs > since);
    return this.sends.reduce((sum, s) => sum + s.recipients, 0);
  }

  dailyQuotaLeft(): boolean {
    return this.max24HourSend < 0 || this.sentLast24Hours() < this.max24HourSend;
  }

  /**
   * Token bucket at `maxSendRate`, refilled by whichever moved more, simulated or real time: a
   * fast demo clock and a paused test clock both see the rate a real sender would.
   */
  rateAllows(): boolean {
    const simMs = this.clock.nowMs();
    const realMs = Date.now();
    const elapsedMs = Math.max(simMs - this.refilledAt.simMs, realMs - this.refilledAt.realMs, 0);
    this.refilledAt = { simMs, realMs };
    this.tokens = Math.min(
      Math.max(1, this.maxSendRate),
      this.tokens + (elapsedMs / 1000) * this.maxSendRate,
    );
    // SES lets a send through while any of the rate is left, then makes the sender wait it off.
    return this.tokens >= 1 - 1e-9;
  }

  recordSend(recipients: number): void {
    this.tokens -= recipients;
    this.sends.push({ atMs: this.clock.nowMs(), recipients });
  }
}
