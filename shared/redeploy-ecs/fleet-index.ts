/**
 * The fleet index: for each ECR repository, the ECS services whose current task definition uses it, so a push
 * reads the services it may move instead of the whole fleet. Kept in the state table:
 *
 * - `fleet#<account>#<region>`: the index was built for that account and Region (`builtAt`, and the
 *   repositories it holds). Without it a push falls back to the full scan, which then builds it.
 * - `fleet#repo#<account>#<region>#<repository>`: `services`, a map of service ARN → cluster ARN.
 * - `fleet#service#<service ARN>`: the repositories the service is indexed under, so an update knows which
 *   entries to take it out of.
 *
 * The index only narrows what a push reads: every candidate is described again before the plan (its task
 * definition, images and policy tag as they are now), so a stale entry can delay a deployment, never cause a
 * wrong one. The reconcile schedule rebuilds it from a full scan; ECS deployment events keep it current between.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ecrRepositoryOf, type RepositoryRef } from '../image-ref';
import { batchGetItems, batchWriteItems } from '../state/batch';
import { EXPIRATION_ATTRIBUTE } from '../state/table';
import type { EcsService } from './model';

export interface IndexedService {
  serviceArn: string;
  clusterArn: string;
}

/** An index not rebuilt for this long is not trusted: the next push scans in full (and rebuilds it). */
const INDEX_TTL_S = 2 * 24 * 3600;

const markerId = (accountId: string, region: string) => `fleet#${accountId}#${region}`;
const repoId = (r: RepositoryRef) => `fleet#repo#${r.accountId}#${r.region}#${r.repositoryName}`;
const serviceId = (serviceArn: string) => `fleet#service#${serviceArn}`;
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
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /**
   * The services indexed under the pushed repository, or undefined when no index was built for the function's
   * account and Region (`scope`; then the caller scans in full). One read for both items.
   */
  async lookup(
    repo: RepositoryRef,
    scope: { accountId: string; region: string },
  ): Promise<IndexedService[] | undefined> {
    const ids = [markerId(scope.accountId, scope.region), repoId(repo)];
    const byId = await batchGetItems(this.doc, this.tableName, ids);
    const marker = byId.get(ids[0] as string);
    if (!marker || Number(marker[EXPIRATION_ATTRIBUTE] ?? 0) * 1000 < this.now()) return undefined;
    const services = (byId.get(ids[1] as string)?.services ?? {}) as Record<string, string>;
    return Object.entries(services).map(([serviceArn, clusterArn]) => ({ serviceArn, clusterArn }));
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
      new GetCommand({ TableName: this.tableName, Key: { id: markerId(accountId, region) } }),
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
            Item: { id: repoId(fromKey(key)), services: map, [EXPIRATION_ATTRIBUTE]: expiration },
          },
        })),
        ...[...byService].map(([arn, repos]) => ({
          PutRequest: {
            Item: { id: serviceId(arn), repositories: repos, [EXPIRATION_ATTRIBUTE]: expiration },
          },
        })),
        ...gone.map((key) => ({ DeleteRequest: { Key: { id: repoId(fromKey(key)) } } })),
      ],
      'fleet index',
    );
    // Written last: a rebuild that failed half-way leaves the previous marker (or none), never a marker over
    // entries it did not write.
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          id: markerId(accountId, region),
          builtAt: new Date(this.now()).toISOString(),
          services: services.length,
          ...(byRepo.size > 0 ? { repositories: new Set(byRepo.keys()) } : {}),
          [EXPIRATION_ATTRIBUTE]: expiration,
        },
      }),
    );
  }

  /**
   * One service as it is now (a deployment event, or a push that found it changed): out of the repositories it
   * left, into those it uses. `undefined`: the service is gone.
   */
  async updateService(serviceArn: string, service: EcsService | undefined): Promise<void> {
    const before = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: serviceId(serviceArn) } }),
    );
    const was = new Set<string>((before.Item?.repositories as string[] | undefined) ?? []);
    const now = new Map((service ? repositoriesOf(service) : []).map((r) => [repoKey(r), r]));
    for (const key of was) if (!now.has(key)) await this.remove(fromKey(key), serviceArn);
    if (!service) {
      await this.doc.send(
        new DeleteCommand({ TableName: this.tableName, Key: { id: serviceId(serviceArn) } }),
      );
      return;
    }
    for (const repo of now.values()) await this.add(repo, serviceArn, service.clusterArn);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          id: serviceId(serviceArn),
          repositories: [...now.keys()],
          [EXPIRATION_ATTRIBUTE]: this.expiration(),
        },
      }),
    );
  }

  /** Takes a service out of one repository's entry (it no longer uses the repository, or is gone). */
  private async remove(repo: RepositoryRef, serviceArn: string): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: repoId(repo) },
          UpdateExpression: 'REMOVE services.#arn',
          ConditionExpression: 'attribute_exists(services)',
          ExpressionAttributeNames: { '#arn': serviceArn },
        }),
      )
      .catch((err: unknown) => {
        if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
      });
  }

  private async add(repo: RepositoryRef, serviceArn: string, clusterArn: string): Promise<void> {
    const expiration = this.expiration();
    // A map attribute must exist before one of its keys is set: two steps, each safe to repeat.
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: repoId(repo) },
        UpdateExpression: 'SET services = if_not_exists(services, :empty), #exp = if_not_exists(#exp, :exp)',
        ExpressionAttributeNames: { '#exp': EXPIRATION_ATTRIBUTE },
        ExpressionAttributeValues: { ':empty': {}, ':exp': expiration },
      }),
    );
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { id: repoId(repo) },
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
