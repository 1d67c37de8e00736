/**
 * The in-use set: every place that runs or may soon run an image, read from every source before anything is
 * deleted. A source is a small interface so ECS, EKS (and whatever comes next) plug in alike.
 */
import { errorMessage } from '../../errors';
import type { Digest } from '../../image-ref';

export interface InUseRef {
  /** The image as the workload names it: `repo:tag`, `repo@sha256:…` or `repo:tag@sha256:…`. */
  image?: string;
  /** The digest that actually runs, when the source reports one (ECS task `imageDigest`, pod `imageID`). */
  digest?: Digest;
  /** Who uses it, shown as the keep reason: `ECS task prod/1a2b container app (RUNNING)`. */
  usedBy: string;
}

export interface InUseSource {
  /** Named in errors and logs: `ecs`, `eks:prod-cluster`. */
  readonly name: string;
  /** Throws when anything it should read cannot be read: the caller then deletes nothing. */
  collect(): Promise<InUseRef[]>;
}

/** One or more in-use sources could not be read: pruning in this account and region must not go on. */
export class InUseSourceError extends Error {
  constructor(readonly failures: { source: string; error: string }[]) {
    super(
      `in-use set incomplete, nothing deleted: ${failures.map((f) => `source ${f.source} failed: ${f.error}`).join('; ')}`,
    );
    this.name = 'InUseSourceError';
  }
}

/** Reads every source (concurrently); fails closed if any one of them fails. */
export async function collectInUse(sources: readonly InUseSource[]): Promise<InUseRef[]> {
  const settled = await Promise.allSettled(sources.map((s) => s.collect()));
  const failures: { source: string; error: string }[] = [];
  const refs: InUseRef[] = [];
  settled.forEach((r, i) => {
    const name = sources[i]?.name ?? `#${i}`;
    if (r.status === 'rejected') failures.push({ source: name, error: errorMessage(r.reason) });
    else refs.push(...r.value);
  });
  if (failures.length > 0) throw new InUseSourceError(failures);
  return refs;
}
