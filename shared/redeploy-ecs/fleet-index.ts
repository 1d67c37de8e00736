/**
 * The fleet index: for each ECR repository, the ECS services whose current task definition uses it, so a push
 * reads the services it may move instead of the whole fleet. Kept in the state table:
 *
 * - `fleet#<account>#<region>`: the index was built for that account and Region (`builtAt`, and the
 *   repositories it holds). Without it a push falls back to the full scan, which then builds it.
 * - `fleet#repo#<account>#<region>#<repository>`: `services`, a map of service ARN → cluster ARN.
 * - `fleet#service#<service ARN>`: the repositories the service is indexed under, so an update knows which
 *   entries to take it out of.
 * - `fleet#pass#<account>#<region>`: a full scan that needs more than one invocation at the account's read
 *   budget (`ecs.maxReadsPerSecond`): the clusters it has still to read. Each invocation writes the services it
 *   read into the entries; the last one writes the marker. Meanwhile a push reads the entries written so far,
 *   and the clusters still to read are the pass's to move.
 *
 * The index only narrows what a push reads: every candidate is described again before the plan (its task
 * definition, images and policy tag as they are now), so a stale entry can delay a deployment, never cause a
 * wrong one. The reconcile schedule rebuilds it from a full scan; ECS deployment events keep it current between.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ecrRepositoryOf, type RepositoryRef } from '../image-ref';
import { batchGetItems, batchWriteItems } from '../state/batch';
import { isConditionFailure, stateDocument } from '../state/document';
import { EXPIRATION_ATTRIBUTE } from '../state/table';
import type { EcsService } from './model';

export interface IndexedService {
  serviceArn: string;
  clusterArn: string;
}

/** A full scan in progress over several invocations. */
export interface ScanPass {
  /** Clusters not read yet. */
  remaining: string[];
  startedAt: string;
  /** Invocations so far. */
  turns: number;
  /** A cluster or service could not be read in an earlier turn: the pass will not write the marker. */
  failed: boolean;
}

export interface IndexLookup {
  services: IndexedService[];
  /** A scan pass is still writing the entries: the clusters it has not read are its own to move. */
  partial: boolean;
}

/** An index not rebuilt for this long is not trusted: the next push scans in full (and rebuilds it). */
const INDEX_TTL_S = 2 * 24 * 3600;

const markerId = (accountId: string, region: string) => `fleet#${accountId}#${region}`;
const repoId = (r: RepositoryRef) => `fleet#repo#${r.accountId}#${r.region}#${r.repositoryName}`;
const serviceId = (serviceArn: string) => `fleet#service#${serviceArn}`;
const passId = (accountId: string, region: string) => `fleet#pass#${accountId}#${region}`;
const repoKey = (r: RepositoryRef) => `${r.accountId}#${r.region}#${r.repositoryName}`;
const fromKey = (key: string): RepositoryRef => {
  const [accountId = '', region = '', ...name] = key.split('#');
  return { accountId, region, repositoryName: name.join('#') };
};

/** The ECR repositories a service's containers use (any account or Region: the push names its own). */
export function repositoriesOf(service: Pick<EcsService, 'containers'>): RepositoryRef[] {
  const seen = new Map<string, RepositoryRef>();
  for (const c of service.containers) {
    const repo = ecrRepositoryOf(c.image);
    if (repo) seen.set(repoKey(repo), repo);
  }
  return [...seen.values()];
}

export class FleetIndex {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    /**
     * Another target's index lives under its own keys (`t#<account>#<region>#fleet#…`), so a rebuild in one
     * target never replaces another's entries; the home target's keys are those written before targets existed.
     */
    private readonly target?: { accountId: string; region: string },
  ) {
    this.doc = stateDocument(client);
  }

  private ns(id: string): string {
    return this.target ? `t#${this.target.accountId}#${this.target.region}#${id}` : id;
  }

  /**
   * The services indexed under the pushed repository, or undefined when no index was built for the function's
   * account and Region (`scope`; then the caller scans in full). Partial while a scan pass is writing it. One
   * read for the three items.
   */
  async lookup(
    repo: RepositoryRef,
    scope: { accountId: string; region: string },
  ): Promise<IndexLookup | undefined> {
    const marker = this.ns(markerId(scope.accountId, scope.region));
    const entry = this.ns(repoId(repo));
    const pass = this.ns(passId(scope.accountId, scope.region));
    const byId = await batchGetItems(this.doc, this.tableName, [marker, entry, pass]);
    const built = byId.get(marker);
    const valid = built !== undefined && Number(built[EXPIRATION_ATTRIBUTE] ?? 0) * 1000 >= this.now();
    const partial = byId.has(pass);
    if (!valid && !partial) return undefined;
    const services = (byId.get(entry)?.services ?? {}) as Record<string, string>;
    return {
      services: Object.entries(services).map(([serviceArn, clusterArn]) => ({ serviceArn, clusterArn })),
      partial,
    };
  }

  /** The scan pass in progress for an account and Region, if any. */
  async pass(accountId: string, region: string): Promise<ScanPass | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: this.ns(passId(accountId, region)) } }),
    );
    if (!out.Item) return undefined;
    const { remaining, startedAt, turns, failed } = out.Item;
    return {
      remaining: [...((remaining as string[] | undefined) ?? [])],
      startedAt: String(startedAt),
      turns: Number(turns ?? 0),
      failed: failed === true,
    };
  }

  /**
   * One turn of a scan pass read these services (their clusters whole): their entries are written, then the
   * pass is saved with the clusters still to read, or, when none are left, ended (the marker is written only
   * if nothing failed in any turn).
   */
  async passTurn(
    accountId: string,
    region: string,
    services: readonly EcsService[],
    pass: ScanPass,
  ): Promise<void> {
    await this.upsert(services);
    if (pass.remaining.length > 0) {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            id: this.ns(passId(accountId, region)),
            ...pass,
            [EXPIRATION_ATTRIBUTE]: this.expiration(),
          },
        }),
      );
      return;
    }
    if (!pass.failed) {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            id: this.ns(markerId(accountId, region)),
            builtAt: new Date(this.now()).toISOString(),
            passStartedAt: pass.startedAt,
            turns: pass.turns,
            [EXPIRATION_ATTRIBUTE]: this.expiration(),
          },
        }),
      );
    }
    await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: { id: this.ns(passId(accountId, region)) } }),
    );
  }

  /** The index of one account and Region from a full scan of its services: every entry replaced. */
  async rebuild(accountId: string, region: string, services: readonly EcsService[]): Promise<void> {
    const byRepo = new Map<string, Record<string, string>>();
    const byService = new Map<string, string[]>();
    for (const s of services) {
      const repos = repositoriesOf(s);
      byService.set(s.serviceArn, repos.map(repoKey));
      for (const r of repos) {
        const key = repoKey(r);
        byRepo.set(key, { ...(byRepo.get(key) ?? {}), [s.serviceArn]: s.clusterArn });
      }
    }
    const expiration = this.expiration();
    const previous = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: this.ns(markerId(accountId, region)) } }),
    );
    const gone = [...((previous.Item?.repositories as Set<string> | undefined) ?? [])].filter(
      (key) => !byRepo.has(key),
    );
    await batchWriteItems(
      this.doc,
      this.tableName,
      [
        ...[...byRepo].map(([key, map]) => ({
          PutRequest: {
            Item: { id: this.ns(repoId(fromKey(key))), services: map, [EXPIRATION_ATTRIBUTE]: expiration },
          },
        })),
        ...[...byService].map(([arn, repos]) => ({
          PutRequest: {
            Item: { id: this.ns(serviceId(arn)), repositories: repos, [EXPIRATION_ATTRIBUTE]: expiration },
          },
        })),
        ...gone.map((key) => ({ DeleteRequest: { Key: { id: this.ns(repoId(fromKey(key))) } } })),
      ],
      'fleet index',
    );
    // Written last: a rebuild that failed half-way leaves the previous marker (or none), never a marker over
    // entries it did not write.
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          id: this.ns(markerId(accountId, region)),
          builtAt: new Date(this.now()).toISOString(),
          services: services.length,
          ...(byRepo.size > 0 ? { repositories: new Set(byRepo.keys()) } : {}),
          [EXPIRATION_ATTRIBUTE]: expiration,
        },
      }),
    );
  }

  /**
   * A turn's services into the index, writing only what changed: each service whose entries already say what it
   * uses is left alone (a pass over an unchanged fleet writes almost nothing); the entries it saw get a new
   * expiry, so an entry outlives the marker as long as its services are seen.
   */
  private async upsert(services: readonly EcsService[]): Promise<void> {
    const repos = new Map<string, RepositoryRef>();
    const wanted = new Map<string, string[]>();
    for (const s of services) {
      const own = repositoriesOf(s);
      wanted.set(s.serviceArn, own.map(repoKey));
      for (const r of own) repos.set(repoKey(r), r);
    }
    const stored = await batchGetItems(this.doc, this.tableName, [
      ...services.map((s) => this.ns(serviceId(s.serviceArn))),
      ...[...repos.values()].map((r) => this.ns(repoId(r))),
    ]);
    const indexedUnder = (key: string) =>
      (stored.get(this.ns(repoId(fromKey(key))))?.services ?? {}) as Record<string, string>;
    for (const s of services) {
      const now = wanted.get(s.serviceArn) ?? [];
      const was = (stored.get(this.ns(serviceId(s.serviceArn)))?.repositories as string[] | undefined) ?? [];
      const same =
        was.length === now.length &&
        now.every((key) => was.includes(key) && indexedUnder(key)[s.serviceArn] === s.clusterArn);
      if (!same) await this.move(s.serviceArn, s, was);
    }
    const expiration = this.expiration();
    for (const repo of repos.values()) {
      await this.updateEntry(
        repo,
        'SET #exp = :exp',
        { '#exp': EXPIRATION_ATTRIBUTE },
        { ':exp': expiration },
      );
    }
  }

  /**
   * One service as it is now (a deployment event, or a push that found it changed): out of the repositories it
   * left, into those it uses. `undefined`: the service is gone.
   */
  async updateService(serviceArn: string, service: EcsService | undefined): Promise<void> {
    const before = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: this.ns(serviceId(serviceArn)) } }),
    );
    await this.move(serviceArn, service, (before.Item?.repositories as string[] | undefined) ?? []);
  }

  /** The service out of the repositories it was indexed under (`was`, from its item) and into those it uses. */
  private async move(
    serviceArn: string,
    service: EcsService | undefined,
    was: readonly string[],
  ): Promise<void> {
    const now = new Map((service ? repositoriesOf(service) : []).map((r) => [repoKey(r), r]));
    for (const key of was) if (!now.has(key)) await this.remove(fromKey(key), serviceArn);
    if (!service) {
      await this.doc.send(
        new DeleteCommand({ TableName: this.tableName, Key: { id: this.ns(serviceId(serviceArn)) } }),
      );
      return;
    }
    for (const repo of now.values()) await this.add(repo, serviceArn, service.clusterArn);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          id: this.ns(serviceId(serviceArn)),
          repositories: [...now.keys()],
          [EXPIRATION_ATTRIBUTE]: this.expiration(),
        },
      }),
    );
  }

  /** Takes a service out of one repository's entry (it no longer uses the repository, or is gone). */
  private async remove(repo: RepositoryRef, serviceArn: string): Promise<void> {
    await this.updateEntry(repo, 'REMOVE services.#arn', { '#arn': serviceArn });
  }

  /** An update of a repository's entry that exists; an entry already gone (expired, deleted) is left so. */
  private async updateEntry(
    repo: RepositoryRef,
    expression: string,
    names: Record<string, string>,
    values?: Record<string, unknown>,
  ): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: this.ns(repoId(repo)) },
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(services)',
          ExpressionAttributeNames: names,
          ...(values ? { ExpressionAttributeValues: values } : {}),
        }),
      )
      .catch((err: unknown) => {
        if (!isConditionFailure(err)) throw err;
      });
  }

  private async add(repo: RepositoryRef, serviceArn: string, clusterArn: string): Promise<void> {
    const expiration = this.expiration();
    // A map attribute must exist before one of its keys is set: two steps, each safe to repeat.
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: this.ns(repoId(repo)) },
        // The expiry moves on with every write: an entry outlives the marker as long as its services are seen.
        UpdateExpression: 'SET services = if_not_exists(services, :empty), #exp = :exp',
        ExpressionAttributeNames: { '#exp': EXPIRATION_ATTRIBUTE },
        ExpressionAttributeValues: { ':empty': {}, ':exp': expiration },
      }),
    );
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: this.ns(repoId(repo)) },
        UpdateExpression: 'SET services.#arn = :cluster',
        ExpressionAttributeNames: { '#arn': serviceArn },
        ExpressionAttributeValues: { ':cluster': clusterArn },
      }),
    );
  }

  private expiration(): number {
    return Math.floor(this.now() / 1000) + INDEX_TTL_S;
  }
}
