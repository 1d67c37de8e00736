/**
 * One capacity report across targets (docs/organisation.md), pure: each target is read and planned on its own;
 * here its findings get keys of their own (`<account>/<region>/ecs:prod:…` for another target, as before for
 * the home target, so state told before targets existed stays valid), a target that could not be read becomes a
 * finding, and told findings of a target this run did not read stay told.
 */
import { type Target, targetLabel } from '../targets';
import type { Finding } from './model';

/** `111111111111/us-west-2/` for another target, nothing for the home target. */
export function keyPrefix(target: Target): string {
  return target.home ? '' : `${target.accountId}/${target.region}/`;
}

/** The prefix a finding key carries (`111111111111/us-west-2/`), or '' for the home target's. */
export function prefixOfKey(key: string): string {
  const m = /^(\d{12}\/[^/:]+\/)/.exec(key);
  return m?.[1] ?? '';
}

/** A target's findings, keyed and labelled as its own (the home target's unchanged). */
export function qualifyFindings(target: Target, findings: readonly Finding[]): Finding[] {
  if (target.home) return [...findings];
  const prefix = keyPrefix(target);
  const label = targetLabel(target);
  return findings.map((f) => ({ ...f, key: `${prefix}${f.key}`, target: label }));
}

/**
 * A target whose capacity could not be read (its role cannot be assumed, ECS or EKS refuse): a warning of its
 * own, told once like any finding and cleared when the target can be read again.
 */
export function unreadableFinding(target: Target, error: string): Finding {
  return {
    key: `${keyPrefix(target)}target:unreadable`,
    severity: 'warning',
    kind: 'target-unreadable',
    cluster: 'Access',
    subject: target.home ? 'home' : target.roleArn,
    title: `capacity of ${targetLabel(target)} could not be read`,
    detail: error,
    ...(target.home ? {} : { target: targetLabel(target) }),
  };
}

/** What one target's run left: read (with its own unread findings), or not read at all. */
export type TargetTurn = { read: true; unread: (key: string) => boolean } | { read: false };

/**
 * Told findings this run did not look at, across targets: a target not read this run (it failed, or this
 * schedule event already made its turn there) keeps all of its findings told; a target read asks its own turn
 * (a pass over several invocations) with the key it knows. A key of a target no longer configured is read by
 * nobody: it clears.
 */
export function unreadAcross(turns: ReadonlyMap<string, TargetTurn>): (key: string) => boolean {
  return (key) => {
    const prefix = prefixOfKey(key);
    const turn = turns.get(prefix);
    if (!turn) return false;
    return turn.read ? turn.unread(key.slice(prefix.length)) : true;
  };
}
