/**
 * A fake ECR registry and ECS fleet behind aws-sdk-client-mock for pruneImages: paging and batch limits
 * enforced as AWS does, deletions change the registry (so a second run sees the result), every call counted.
 * Used by the handler tests and by bench/prune.ts.
 */
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  type ImageFailure,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-ecr';
import {
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListServiceDeploymentsCommand,
  ListServicesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { EKSClient, ListClustersCommand as ListEksClustersCommand } from '@aws-sdk/client-eks';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import type { EcrImage } from '../../../shared/ecr/prune-model';
import { ACCOUNT, REGION } from './images';

export interface FakeRepository {
  name: string;
  tags?: Record<string, string>;
  images: EcrImage[];
}

export interface FakeTaskDefinition {
  family: string;
  revision: number;
  images: string[];
  status?: 'ACTIVE' | 'INACTIVE';
}

export interface FakeService {
  cluster: string;
  name: string;
  deployments: { id: string; status: 'PRIMARY' | 'ACTIVE'; taskDefinition: string; running: number }[];
  /** Service revisions: the digests ECS pinned, per task definition. */
  revisions?: { taskDefinition: string; digests: string[] }[];
}

export interface FakeTask {
  cluster: string;
  id: string;
  taskDefinition: string;
  lastStatus?: string;
  containers: { name: string; image: string; imageDigest?: string }[];
}

export interface FakeWorld {
  repositories: FakeRepository[];
  clusters: string[];
  taskDefinitions: FakeTaskDefinition[];
  services: FakeService[];
  tasks: FakeTask[];
  /** EKS clusters in the account (none by default). */
  eksClusters?: string[];
}

const arn = (kind: string, rest: string) => `arn:aws:${kind}:${REGION}:${ACCOUNT}:${rest}`;
export const tdArn = (familyRevision: string) => arn('ecs', `task-definition/${familyRevision}`);
const clusterArn = (c: string) => arn('ecs', `cluster/${c}`);

/** Pages a list as AWS does: opaque token = next offset. */
function page<T>(items: T[], max: number | undefined, token: string | undefined, cap: number) {
  if (max !== undefined && max > cap) throw new Error(`maxResults ${max} above ${cap}`);
  const size = max ?? cap;
  const start = token ? Number(token) : 0;
  const slice = items.slice(start, start + size);
  return { slice, nextToken: start + size < items.length ? String(start + size) : undefined };
}

export function fakeCloud(world: FakeWorld) {
  const ecr = mockClient(ECRClient);
  const ecs = mockClient(ECSClient);
  const ses = mockClient(SESv2Client);
  const eks = mockClient(EKSClient);
  const calls: Record<string, number> = {};
  const count = (op: string) => {
    calls[op] = (calls[op] ?? 0) + 1;
  };
  const repos = new Map(world.repositories.map((r) => [r.name, r]));
  const deleteCalls: { repositoryName: string; digests: string[] }[] = [];
  /** digest → ImageFailure code the next BatchDeleteImage of it returns */
  const deleteFailures = new Map<string, ImageFailure['failureCode']>();
  const repoOf = (name: string | undefined) => {
    const r = repos.get(name ?? '');
    if (!r)
      throw Object.assign(new Error(`repository ${name} not found`), { name: 'RepositoryNotFoundException' });
    return r;
  };

  ecr.on(DescribeRepositoriesCommand).callsFake((input) => {
    count('ecr:DescribeRepositories');
    const all = [...repos.values()].map((r) => ({
      repositoryName: r.name,
      repositoryArn: arn('ecr', `repository/${r.name}`),
      registryId: ACCOUNT,
    }));
    const { slice, nextToken } = page(all, input.maxResults, input.nextToken, 1000);
    return { repositories: slice, nextToken };
  });
  ecr.on(ListTagsForResourceCommand).callsFake((input) => {
    count('ecr:ListTagsForResource');
    const r = repoOf(String(input.resourceArn).split('repository/')[1]);
    return { tags: Object.entries(r.tags ?? {}).map(([Key, Value]) => ({ Key, Value })) };
  });
  ecr.on(DescribeImagesCommand).callsFake((input) => {
    count('ecr:DescribeImages');
    const r = repoOf(input.repositoryName);
    const { slice, nextToken } = page(r.images, input.maxResults, input.nextToken, 1000);
    return {
      imageDetails: slice.map((i) => ({
        registryId: ACCOUNT,
        repositoryName: r.name,
        imageDigest: i.digest,
        ...(i.tags.length > 0 ? { imageTags: i.tags } : {}),
        imagePushedAt: i.pushedAt,
        imageSizeInBytes: i.sizeBytes,
        imageManifestMediaType: i.mediaType,
        ...(i.subjectDigest ? { subjectManifestDigest: i.subjectDigest } : {}),
      })),
      nextToken,
    };
  });
  ecr.on(BatchGetImageCommand).callsFake((input) => {
    count('ecr:BatchGetImage');
    const r = repoOf(input.repositoryName);
    const ids = input.imageIds ?? [];
    if (ids.length > 100) throw Object.assign(new Error('too many ids'), { name: 'ValidationException' });
    const images = [];
    const failures = [];
    for (const id of ids) {
      const found = r.images.find((i) => i.digest === id.imageDigest);
      if (!found) {
        failures.push({
          imageId: id,
          failureCode: 'ImageNotFound' as const,
          failureReason: 'Requested image not found',
        });
        continue;
      }
      images.push({
        imageId: id,
        imageManifestMediaType: found.mediaType,
        imageManifest: JSON.stringify({
          schemaVersion: 2,
          mediaType: found.mediaType,
          manifests: (found.children ?? []).map((digest) => ({ digest, mediaType: 'x', size: 1 })),
        }),
      });
    }
    return { images, failures };
  });
  ecr.on(BatchDeleteImageCommand).callsFake((input) => {
    count('ecr:BatchDeleteImage');
    const r = repoOf(input.repositoryName);
    const ids = input.imageIds ?? [];
    if (ids.length > 100) throw Object.assign(new Error('too many ids'), { name: 'ValidationException' });
    deleteCalls.push({
      repositoryName: r.name,
      digests: ids.map((id: { imageDigest?: string | undefined }) => String(id.imageDigest)),
    });
    const imageIds: { imageDigest: string }[] = [];
    const failures: ImageFailure[] = [];
    for (const id of ids) {
      const injected = deleteFailures.get(String(id.imageDigest));
      const found = r.images.find((i) => i.digest === id.imageDigest);
      const parent = r.images.find((i) => i.children?.includes(String(id.imageDigest) as EcrImage['digest']));
      if (injected)
        failures.push({ imageId: id, failureCode: injected, failureReason: `injected ${injected}` });
      else if (!found)
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'not found' });
      else if (parent) {
        failures.push({
          imageId: id,
          failureCode: 'ImageReferencedByManifestList',
          failureReason: `referenced by ${parent.digest}`,
        });
      } else imageIds.push({ imageDigest: found.digest });
    }
    // ECR checks references against the registry before the request: apply deletions after the loop.
    r.images = r.images.filter((i) => !imageIds.some((x) => x.imageDigest === i.digest));
    return { imageIds, failures };
  });

  const tds = new Map(world.taskDefinitions.map((t) => [tdArn(`${t.family}:${t.revision}`), t]));
  ecs.on(ListClustersCommand).callsFake(() => {
    count('ecs:ListClusters');
    return { clusterArns: world.clusters.map(clusterArn) };
  });
  const inCluster = (c: string | undefined) => (x: { cluster: string }) =>
    clusterArn(x.cluster) === c || x.cluster === c;
  ecs.on(ListTasksCommand).callsFake((input) => {
    count('ecs:ListTasks');
    const tasks = world.tasks
      .filter(inCluster(input.cluster))
      .map((t) => arn('ecs', `task/${t.cluster}/${t.id}`));
    const { slice, nextToken } = page(tasks, input.maxResults, input.nextToken, 100);
    return { taskArns: slice, nextToken };
  });
  ecs.on(DescribeTasksCommand).callsFake((input) => {
    count('ecs:DescribeTasks');
    if ((input.tasks ?? []).length > 100) throw new Error('DescribeTasks takes at most 100 tasks');
    const tasks = world.tasks
      .filter((t) => input.tasks?.includes(arn('ecs', `task/${t.cluster}/${t.id}`)))
      .map((t) => ({
        taskArn: arn('ecs', `task/${t.cluster}/${t.id}`),
        taskDefinitionArn: tdArn(t.taskDefinition),
        lastStatus: t.lastStatus ?? 'RUNNING',
        containers: t.containers,
      }));
    return { tasks, failures: [] };
  });
  ecs.on(ListServicesCommand).callsFake((input) => {
    count('ecs:ListServices');
    const arns = world.services
      .filter(inCluster(input.cluster))
      .map((s) => arn('ecs', `service/${s.cluster}/${s.name}`));
    const { slice, nextToken } = page(arns, input.maxResults, input.nextToken, 100);
    return { serviceArns: slice, nextToken };
  });
  ecs.on(DescribeServicesCommand).callsFake((input) => {
    count('ecs:DescribeServices');
    if ((input.services ?? []).length > 10) throw new Error('DescribeServices takes at most 10 services');
    const services = world.services
      .filter((s) => input.services?.includes(arn('ecs', `service/${s.cluster}/${s.name}`)))
      .map((s) => ({
        serviceArn: arn('ecs', `service/${s.cluster}/${s.name}`),
        serviceName: s.name,
        clusterArn: clusterArn(s.cluster),
        status: 'ACTIVE',
        deployments: s.deployments.map((d) => ({
          id: d.id,
          status: d.status,
          taskDefinition: tdArn(d.taskDefinition),
          runningCount: d.running,
          pendingCount: 0,
        })),
      }));
    return { services, failures: [] };
  });
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input) => {
    count('ecs:DescribeTaskDefinition');
    const td = tds.get(String(input.taskDefinition));
    if (!td)
      throw Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' });
    return {
      taskDefinition: {
        taskDefinitionArn: tdArn(`${td.family}:${td.revision}`),
        family: td.family,
        revision: td.revision,
        containerDefinitions: td.images.map((image, i) => ({ name: `c${i}`, image })),
      },
    };
  });
  ecs.on(ListTaskDefinitionsCommand).callsFake((input) => {
    count('ecs:ListTaskDefinitions');
    const list = world.taskDefinitions
      .filter((t) => t.family === input.familyPrefix && (t.status ?? 'ACTIVE') === (input.status ?? 'ACTIVE'))
      .sort((a, b) => (input.sort === 'DESC' ? b.revision - a.revision : a.revision - b.revision))
      .map((t) => tdArn(`${t.family}:${t.revision}`));
    const { slice, nextToken } = page(list, input.maxResults, input.nextToken, 100);
    return { taskDefinitionArns: slice, nextToken };
  });
  const serviceByArn = (a: string | undefined) =>
    world.services.find((s) => arn('ecs', `service/${s.cluster}/${s.name}`) === a);
  ecs.on(ListServiceDeploymentsCommand).callsFake((input) => {
    count('ecs:ListServiceDeployments');
    const s = serviceByArn(input.service);
    return {
      serviceDeployments: (s?.revisions ?? []).map((_revision, i) => ({
        serviceDeploymentArn: arn('ecs', `service-deployment/${s?.cluster}/${s?.name}/d${i}`),
        targetServiceRevisionArn: arn('ecs', `service-revision/${s?.cluster}/${s?.name}/${i}`),
        status: 'SUCCESSFUL' as const,
      })),
    };
  });
  ecs.on(DescribeServiceRevisionsCommand).callsFake((input) => {
    count('ecs:DescribeServiceRevisions');
    if ((input.serviceRevisionArns ?? []).length > 20) throw new Error('at most 20 service revisions');
    const serviceRevisions = (input.serviceRevisionArns ?? []).flatMap((revArn: string) => {
      const [, cluster, name, i] = /service-revision\/([^/]+)\/([^/]+)\/(\d+)$/.exec(revArn) ?? [];
      const s = world.services.find((x) => x.cluster === cluster && x.name === name);
      const r = s?.revisions?.[Number(i)];
      if (!r) return [];
      return [
        {
          serviceRevisionArn: revArn,
          taskDefinition: tdArn(r.taskDefinition),
          containerImages: r.digests.map((imageDigest, j) => ({ containerName: `c${j}`, imageDigest })),
        },
      ];
    });
    return { serviceRevisions };
  });
  eks.on(ListEksClustersCommand).callsFake(() => {
    count('eks:ListClusters');
    return { clusters: world.eksClusters ?? [] };
  });
  ses.on(SendEmailCommand).callsFake(() => {
    count('sesv2:SendEmail');
    return { MessageId: `m-${calls['sesv2:SendEmail']}` };
  });

  return {
    ecr,
    ecs,
    ses,
    eks,
    calls,
    deleteCalls,
    deleteFailures,
    repository: (name: string) => repoOf(name),
    emails: () => ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input),
    reset() {
      ecr.reset();
      ecs.reset();
      ses.reset();
      eks.reset();
    },
  };
}
