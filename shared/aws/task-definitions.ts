/**
 * Task definitions are immutable: a revision's ARN always names the same containers. So each revision is
 * described once, ever: kept in memory while the Lambda container stays warm, and in the state table for the
 * next cold start and the other functions. Only tags change after registration; they are never kept across
 * invocations (redeployEcs reads them fresh when it registers a revision).
 */
import {
  DescribeTaskDefinitionCommand,
  type ECSClient,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { LRUCache } from 'lru-cache';
import { EcsReadError } from './ecs';

/** Task definitions by ARN kept beyond one invocation (the state table: ./task-definitions-table.ts). */
export interface TaskDefinitionStore {
  getMany(arns: readonly string[]): Promise<Map<string, TaskDefinition>>;
  putMany(taskDefinitions: readonly TaskDefinition[]): Promise<void>;
}

export type TaskDefinitionMemory = LRUCache<string, TaskDefinition>;

/**
 * What a warm Lambda container keeps of earlier invocations' reads: one per function, made with its handler.
 * Bounded, so a fleet of many thousand revisions cannot grow it past a few tens of MB.
 */
export function taskDefinitionMemory(max = 5_000): TaskDefinitionMemory {
  return new LRUCache<string, TaskDefinition>({ max });
}

export interface TaskDefinitionCacheOptions {
  /** Where revisions outlive the container (the state table); none: memory and this invocation only. */
  store?: TaskDefinitionStore | undefined;
  /** The function's memory across invocations; none: this invocation only. */
  memory?: TaskDefinitionMemory | undefined;
  /** Describe with tags (redeployEcs copies them to a new revision; its role may read them). */
  includeTags?: boolean;
}

/** Only a full ARN with its revision names one immutable revision; a family name moves with each registration. */
const REVISION_ARN = /^arn:[^:]+:ecs:[^:]+:\d{12}:task-definition\/[^:]+:\d+$/;

/**
 * Reads task definitions for one invocation: from memory, then the store, then DescribeTaskDefinition, so a
 * revision is described only if nothing has read it before. `prefetch` reads many from the store in batches
 * (gather knows every ARN before it needs one).
 */
export class TaskDefinitionCache {
  private readonly pending = new Map<string, Promise<TaskDefinition>>();
  /** ARNs already looked up in the store this invocation (found or not). */
  private readonly lookedUp = new Set<string>();
  private readonly withTags = new Map<string, Promise<{ taskDefinition: TaskDefinition; tags: Tag[] }>>();
  private readonly memory: TaskDefinitionMemory;
  private readonly store: TaskDefinitionStore | undefined;
  private readonly includeTags: boolean;
  /** Described this invocation and not stored yet: `save` writes them in batches. */
  private unsaved: TaskDefinition[] = [];

  constructor(
    private readonly ecs: ECSClient,
    options: TaskDefinitionCacheOptions = {},
  ) {
    this.memory = options.memory ?? taskDefinitionMemory();
    this.store = options.store;
    this.includeTags = options.includeTags ?? false;
  }

  /** A revision already read (memory, or the store by `prefetch`), without any call; undefined otherwise. */
  peek(arn: string): TaskDefinition | undefined {
    return this.memory.get(arn);
  }

  /** Reads from the store, in batches, the revisions memory does not hold, before gather asks for them one by one. */
  async prefetch(arns: readonly string[]): Promise<void> {
    if (!this.store) return;
    const wanted = [...new Set(arns)].filter(
      (arn) => REVISION_ARN.test(arn) && !this.memory.has(arn) && !this.pending.has(arn),
    );
    if (wanted.length === 0) return;
    for (const arn of wanted) this.lookedUp.add(arn);
    for (const [arn, td] of await this.store.getMany(wanted)) this.memory.set(arn, td);
  }

  /** Writes what this invocation described to the store (after gather: one batch write per 25, not one each). */
  async save(): Promise<void> {
    const batch = this.unsaved;
    this.unsaved = [];
    // A failed write only costs a describe next time; it never fails the invocation.
    await this.store?.putMany(batch).catch(() => undefined);
  }

  async get(arn: string): Promise<TaskDefinition> {
    const known = this.memory.get(arn);
    if (known) return known;
    let hit = this.pending.get(arn);
    if (!hit) {
      hit = this.load(arn);
      this.pending.set(arn, hit);
    }
    return hit;
  }

  /**
   * With its tags as this invocation read them (never from memory or the store: tags change after
   * registration), described now if this invocation has not.
   */
  getWithTags(arn: string): Promise<{ taskDefinition: TaskDefinition; tags: Tag[] }> {
    let hit = this.withTags.get(arn);
    if (!hit) {
      hit = this.describe(arn);
      this.withTags.set(arn, hit);
    }
    return hit;
  }

  private async load(arn: string): Promise<TaskDefinition> {
    if (this.store && REVISION_ARN.test(arn) && !this.lookedUp.has(arn)) {
      // Not prefetched: one lookup of its own.
      this.lookedUp.add(arn);
      const stored = (await this.store.getMany([arn])).get(arn);
      if (stored) {
        this.memory.set(arn, stored);
        return stored;
      }
    }
    // With its tags where asked: the same call, and apply then needs no second one in this invocation.
    const described = this.describe(arn);
    this.withTags.set(arn, described);
    const { taskDefinition } = await described;
    if (REVISION_ARN.test(arn) && taskDefinition.taskDefinitionArn === arn) {
      this.memory.set(arn, taskDefinition);
      this.unsaved.push(taskDefinition);
    }
    return taskDefinition;
  }

  private async describe(arn: string) {
    const out = await this.ecs.send(
      new DescribeTaskDefinitionCommand({
        taskDefinition: arn,
        ...(this.includeTags ? { include: ['TAGS' as const] } : {}),
      }),
    );
    if (!out.taskDefinition)
      throw new EcsReadError('DescribeTaskDefinition', arn, new Error('empty response'));
    return { taskDefinition: out.taskDefinition, tags: out.tags ?? [] };
  }
}
