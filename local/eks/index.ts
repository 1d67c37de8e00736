/**
 * The EKS control-plane API (restJson1): clusters, managed node groups and Fargate profiles, with their
 * scaling, health and status as `aws eks` and the SDK read them. Every cluster's `endpoint` is its Kubernetes
 * API, served over HTTPS on 127.0.0.1 with a CA of its own (local/eks/kube), whose nodes follow the node
 * groups' desired sizes and the world's self-managed nodes, and whose Fargate pods follow the profiles.
 */
import { randomUUID } from 'node:crypto';
import type * as Eks from '@aws-sdk/client-eks';
import { readPage, readRequest, restInput } from '../aws/request';
import { pick, restRoutes, type Wire } from '../aws/response';
import { AccountRegionStore, type Scope } from '../aws/store';
import { AwsServiceError } from '../errors';
import type { LocalCloudCore, RequestContext, RestRequest, RestRoute } from '../types';
import { KubeCluster, type NodeGroupSpec } from './kube/cluster';
import type { KubeObject } from './kube/store';
import { type KubeconfigOptions, kubeconfigYaml } from './kubeconfig';
import {
  ClusterRequest,
  CreateClusterRequest,
  CreateFargateProfileRequest,
  CreateNodegroupRequest,
  EKS_PAGE,
  eksDialect,
  FargateProfileRequest,
  ListRequest,
  NodegroupRequest,
  UpdateNodegroupConfigRequest,
} from './requests';
import type { EksWorld } from './world';

interface ScalingConfig {
  minSize: number;
  maxSize: number;
  desiredSize: number;
}

interface Nodegroup {
  nodegroupName: string;
  nodegroupArn: string;
  clusterName: string;
  version: string;
  createdAt: number;
  modifiedAt: number;
  status: 'ACTIVE' | 'DEGRADED';
  capacityType: Eks.CapacityTypes;
  scalingConfig: ScalingConfig;
  instanceTypes: string[];
  labels: Record<string, string>;
  health: { issues: { code: Eks.NodegroupIssueCode; message: string; resourceIds: string[] }[] };
  tags: Record<string, string>;
  /** World-given node size (else the instance type's). */
  nodeSize?: { cpu?: string; memory?: string };
}

interface FargateProfile {
  fargateProfileName: string;
  fargateProfileArn: string;
  clusterName: string;
  createdAt: number;
  podExecutionRoleArn: string;
  selectors: { namespace: string; labels?: Record<string, string> }[];
  status: 'ACTIVE';
  tags: Record<string, string>;
}

interface Cluster {
  name: string;
  arn: string;
  createdAt: number;
  version: string;
  roleArn: string;
  status: 'ACTIVE';
  platformVersion: string;
  tags: Record<string, string>;
  nodegroups: Map<string, Nodegroup>;
  fargateProfiles: Map<string, FargateProfile>;
  /** World `nodes:` groups (self-managed instances); node groups' nodes come from `nodegroups`. */
  selfManaged: NodeGroupSpec[];
  kube: KubeCluster;
}

export interface EksClusterOverview {
  accountId: string;
  region: string;
  name: string;
  version: string;
  status: string;
  nodegroups: {
    name: string;
    status: string;
    capacityType: string;
    instanceTypes: string[];
    minSize: number;
    maxSize: number;
    desiredSize: number;
  }[];
  fargateProfiles: string[];
  kube: KubeCluster;
}

/** The EKS operations the local cloud serves, with the SDK's response type of each. */
export interface EksApi {
  ListClusters: Eks.ListClustersResponse;
  CreateCluster: Eks.CreateClusterResponse;
  DescribeCluster: Eks.DescribeClusterResponse;
  DeleteCluster: Eks.DeleteClusterResponse;
  ListNodegroups: Eks.ListNodegroupsResponse;
  CreateNodegroup: Eks.CreateNodegroupResponse;
  DescribeNodegroup: Eks.DescribeNodegroupResponse;
  UpdateNodegroupConfig: Eks.UpdateNodegroupConfigResponse;
  DeleteNodegroup: Eks.DeleteNodegroupResponse;
  ListFargateProfiles: Eks.ListFargateProfilesResponse;
  CreateFargateProfile: Eks.CreateFargateProfileResponse;
  DescribeFargateProfile: Eks.DescribeFargateProfileResponse;
  DeleteFargateProfile: Eks.DeleteFargateProfileResponse;
}

const notFound = (what: string) => new AwsServiceError('ResourceNotFoundException', `No ${what} found.`, 404);
const invalid = (message: string) => new AwsServiceError('InvalidParameterException', message, 400);
/** EKS's defaults for a node group created without a scalingConfig (or with part of one). */
const DEFAULT_SCALING: ScalingConfig = { minSize: 1, maxSize: 2, desiredSize: 2 };

export class EksBackend {
  readonly routes: RestRoute[];
  /** Each account's clusters in each region, by name. */
  private readonly regions = new AccountRegionStore<Map<string, Cluster>>(() => new Map());
  /** Secrets of access keys whose token signatures the Kubernetes APIs verify. */
  private readonly secrets = new Map<string, string>([['test', 'test']]);
  private started = false;

  constructor(readonly core: LocalCloudCore) {
    const route = restRoutes<EksApi>();
    const read = <S extends Parameters<typeof readRequest>[0]>(schema: S, req: RestRequest) =>
      readRequest(schema, restInput(req), eksDialect);
    this.routes = [
      route('GET', '/clusters', 'ListClusters', (req, ctx) => {
        const page = this.page([...this.clusters(ctx).keys()], read(ListRequest, req));
        return { clusters: page.items, nextToken: page.nextToken };
      }),
      route('POST', '/clusters', 'CreateCluster', async (req, ctx) => {
        const cluster = this.createCluster(ctx, read(CreateClusterRequest, req));
        if (this.started) await cluster.kube.start();
        return { cluster: this.view(cluster) };
      }),
      route('GET', '/clusters/{name}', 'DescribeCluster', (req, ctx) => ({
        cluster: this.view(this.cluster(ctx, read(ClusterRequest, req).name)),
      })),
      route('DELETE', '/clusters/{name}', 'DeleteCluster', async (req, ctx) => {
        const cluster = this.deleteCluster(ctx, read(ClusterRequest, req).name);
        await cluster.kube.stop();
        return { cluster: { ...this.view(cluster), status: 'DELETING' } };
      }),
      route('GET', '/clusters/{name}/node-groups', 'ListNodegroups', (req, ctx) => {
        const input = read(ListRequest, req);
        const page = this.page([...this.cluster(ctx, input.name).nodegroups.keys()], input);
        return { nodegroups: page.items, nextToken: page.nextToken };
      }),
      route('POST', '/clusters/{name}/node-groups', 'CreateNodegroup', (req, ctx) => {
        const input = read(CreateNodegroupRequest, req);
        const cluster = this.cluster(ctx, input.name);
        const nodegroup = this.createNodegroup(ctx, cluster, input);
        this.syncNodes(cluster);
        return { nodegroup: nodegroupView(nodegroup) };
      }),
      route('GET', '/clusters/{name}/node-groups/{nodegroupName}', 'DescribeNodegroup', (req, ctx) => ({
        nodegroup: nodegroupView(this.nodegroup(ctx, read(NodegroupRequest, req))),
      })),
      route(
        'POST',
        '/clusters/{name}/node-groups/{nodegroupName}/update-config',
        'UpdateNodegroupConfig',
        (req, ctx) => {
          const input = read(UpdateNodegroupConfigRequest, req);
          const update = this.updateNodegroup(this.nodegroup(ctx, input), input.scalingConfig ?? {});
          this.syncNodes(this.cluster(ctx, input.name));
          return { update };
        },
      ),
      route('DELETE', '/clusters/{name}/node-groups/{nodegroupName}', 'DeleteNodegroup', (req, ctx) => {
        const input = read(NodegroupRequest, req);
        const ng = this.nodegroup(ctx, input);
        this.cluster(ctx, input.name).nodegroups.delete(ng.nodegroupName);
        this.syncNodes(this.cluster(ctx, input.name));
        return { nodegroup: { ...nodegroupView(ng), status: 'DELETING' } };
      }),
      route('GET', '/clusters/{name}/fargate-profiles', 'ListFargateProfiles', (req, ctx) => {
        const input = read(ListRequest, req);
        const page = this.page([...this.cluster(ctx, input.name).fargateProfiles.keys()], input);
        return { fargateProfileNames: page.items, nextToken: page.nextToken };
      }),
      route('POST', '/clusters/{name}/fargate-profiles', 'CreateFargateProfile', (req, ctx) => {
        const input = read(CreateFargateProfileRequest, req);
        const profile = this.createFargateProfile(ctx, this.cluster(ctx, input.name), input);
        return { fargateProfile: fargateProfileView(profile) };
      }),
      route(
        'GET',
        '/clusters/{name}/fargate-profiles/{fargateProfileName}',
        'DescribeFargateProfile',
        (req, ctx) => ({
          fargateProfile: fargateProfileView(this.fargateProfile(ctx, read(FargateProfileRequest, req))),
        }),
      ),
      route(
        'DELETE',
        '/clusters/{name}/fargate-profiles/{fargateProfileName}',
        'DeleteFargateProfile',
        (req, ctx) => {
          const input = read(FargateProfileRequest, req);
          const fp = this.fargateProfile(ctx, input);
          this.cluster(ctx, input.name).fargateProfiles.delete(fp.fargateProfileName);
          return { fargateProfile: { ...fargateProfileView(fp), status: 'DELETING' } };
        },
      ),
    ];
  }

  /** Starts the Kubernetes API server of every cluster (one port and CA each). */
  async start(): Promise<void> {
    this.started = true;
    await Promise.all(this.allClusters().map((c) => c.kube.start()));
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.allClusters().map((c) => c.kube.stop()));
  }

  /** The Kubernetes side of a cluster (tests and the admin side read and drive it). */
  kube(name: string, accountId = this.core.defaultAccountId, region = this.core.defaultRegion): KubeCluster {
    const c = this.regions.peek({ accountId, region })?.get(name);
    if (!c) throw notFound(`cluster found for name: ${name}`);
    return c.kube;
  }

  /** A kubeconfig for the cluster whose user runs `aws eks get-token` against this local cloud. */
  kubeconfig(name: string, options: KubeconfigOptions): string {
    const scope: Scope = {
      accountId: options.accountId ?? this.core.defaultAccountId,
      region: options.region ?? this.core.defaultRegion,
    };
    const c = this.regions.peek(scope)?.get(name);
    if (!c?.kube.endpoint || !c.kube.caData) throw notFound(`running cluster found for name: ${name}`);
    return kubeconfigYaml({ cluster: c, endpoint: c.kube.endpoint, caData: c.kube.caData }, options);
  }

  /** Every cluster of every account and region, for the console's fleet view (read only). */
  overview(): EksClusterOverview[] {
    return this.regions.entries().flatMap(([scope, clusters]) =>
      [...clusters.values()].map((c) => ({
        accountId: scope.accountId,
        region: scope.region,
        name: c.name,
        version: c.version,
        status: c.status,
        nodegroups: [...c.nodegroups.values()].map((ng) => ({
          name: ng.nodegroupName,
          status: ng.status,
          capacityType: ng.capacityType,
          instanceTypes: ng.instanceTypes,
          ...ng.scalingConfig,
        })),
        fargateProfiles: [...c.fargateProfiles.keys()],
        kube: c.kube,
      })),
    );
  }

  private allClusters(): Cluster[] {
    return this.regions.values().flatMap((m) => [...m.values()]);
  }

  /** Node group nodes follow desiredSize; self-managed nodes follow the world. */
  private syncNodes(cluster: Cluster): void {
    cluster.kube.syncNodes([
      ...cluster.selfManaged,
      ...[...cluster.nodegroups.values()].map((ng) => ({
        key: `nodegroup/${ng.nodegroupName}`,
        count: ng.scalingConfig.desiredSize,
        instanceType: ng.instanceTypes[0] ?? 't3.medium',
        labels: {
          ...ng.labels,
          'eks.amazonaws.com/nodegroup': ng.nodegroupName,
          'eks.amazonaws.com/capacityType': ng.capacityType,
          'eks.amazonaws.com/nodegroup-image': 'ami-0local',
        },
        ...(ng.nodeSize?.cpu ? { cpu: ng.nodeSize.cpu } : {}),
        ...(ng.nodeSize?.memory ? { memory: ng.nodeSize.memory } : {}),
      })),
    ]);
  }

  loadWorld(world: EksWorld): void {
    for (const k of world.accessKeys) this.secrets.set(k.accessKeyId, k.secretAccessKey);
    // World clusters are created as CreateCluster would create them, names checked the same way.
    const read = <S extends Parameters<typeof readRequest>[0]>(schema: S, input: unknown) =>
      readRequest(schema, input, eksDialect);
    for (const c of world.clusters) {
      const ctx = {
        accountId: c.accountId ?? this.core.defaultAccountId,
        region: c.region ?? this.core.defaultRegion,
        accessKeyId: 'world',
      };
      const cluster = this.createCluster(
        ctx,
        read(CreateClusterRequest, {
          name: c.name,
          version: c.version,
          tags: c.tags,
          roleArn: `arn:aws:iam::${ctx.accountId}:role/eks-cluster`,
        }),
      );
      for (const ng of c.nodegroups) {
        const created = this.createNodegroup(
          ctx,
          cluster,
          read(CreateNodegroupRequest, {
            name: c.name,
            nodegroupName: ng.name,
            scalingConfig: { minSize: ng.minSize, maxSize: ng.maxSize, desiredSize: ng.desiredSize },
            instanceTypes: ng.instanceTypes,
            capacityType: ng.capacityType,
            labels: ng.labels,
            nodeRole: `arn:aws:iam::${ctx.accountId}:role/eks-node`,
          }),
        );
        if (ng.cpu || ng.memory)
          created.nodeSize = {
            ...(ng.cpu ? { cpu: ng.cpu } : {}),
            ...(ng.memory ? { memory: ng.memory } : {}),
          };
        // A world names any issue code it wants to show; EKS's own are the ones it would see.
        created.health.issues = ng.healthIssues.map((i) => ({
          code: i.code as Eks.NodegroupIssueCode,
          message: i.message,
          resourceIds: [],
        }));
        if (created.health.issues.length > 0) created.status = 'DEGRADED';
      }
      for (const fp of c.fargateProfiles) {
        this.createFargateProfile(
          ctx,
          cluster,
          read(CreateFargateProfileRequest, {
            name: c.name,
            fargateProfileName: fp.name,
            selectors: fp.selectors,
            podExecutionRoleArn: `arn:aws:iam::${ctx.accountId}:role/eks-fargate-pods`,
          }),
        );
      }
      cluster.selfManaged = c.nodes.map((n) => ({
        key: `self/${n.name}`,
        count: n.count,
        instanceType: n.instanceType,
        labels: { ...n.labels, 'alpha.eksctl.io/nodegroup-name': n.name },
        ...(n.cpu ? { cpu: n.cpu } : {}),
        ...(n.memory ? { memory: n.memory } : {}),
      }));
      this.syncNodes(cluster);
      cluster.kube.createObjects(c.objects as KubeObject[]);
    }
  }

  private clusters(ctx: RequestContext): Map<string, Cluster> {
    return this.regions.of(ctx);
  }

  private cluster(ctx: RequestContext, name: string | undefined): Cluster {
    const c = this.clusters(ctx).get(name ?? '');
    if (!c) throw notFound(`cluster found for name: ${name}`);
    return c;
  }

  private now(): number {
    return this.core.clock.nowMs() / 1000;
  }

  /** A page of names, in name order. */
  private page(names: string[], input: object) {
    return readPage(names.sort(), (n) => n, input, EKS_PAGE, eksDialect);
  }

  private createCluster(ctx: RequestContext, input: CreateClusterRequest): Cluster {
    const name = input.name;
    if (this.clusters(ctx).has(name))
      throw new AwsServiceError('ResourceInUseException', `Cluster already exists with name: ${name}`, 409);
    const cluster: Cluster = {
      name,
      arn: `arn:aws:eks:${ctx.region}:${ctx.accountId}:cluster/${name}`,
      createdAt: this.now(),
      version: input.version ?? '1.32',
      roleArn: input.roleArn ?? '',
      status: 'ACTIVE',
      platformVersion: 'eks.1',
      tags: input.tags ?? {},
      nodegroups: new Map(),
      fargateProfiles: new Map(),
      selfManaged: [],
      kube: undefined as unknown as KubeCluster,
    };
    cluster.kube = new KubeCluster({
      name,
      version: cluster.version,
      region: ctx.region,
      clock: this.core.clock,
      resolve: (image) => this.core.images.resolve(image, { accountId: ctx.accountId, region: ctx.region }),
      fargateSelectors: () =>
        [...cluster.fargateProfiles.values()].flatMap((fp) =>
          fp.selectors.map((s) => ({ profile: fp.fargateProfileName, ...s })),
        ),
      secrets: () => this.secrets,
    });
    this.clusters(ctx).set(name, cluster);
    return cluster;
  }

  private deleteCluster(ctx: RequestContext, name: string | undefined): Cluster {
    const c = this.cluster(ctx, name);
    if (c.nodegroups.size > 0 || c.fargateProfiles.size > 0) {
      throw new AwsServiceError(
        'ResourceInUseException',
        `Cluster has nodegroups or Fargate profiles attached`,
        409,
      );
    }
    this.clusters(ctx).delete(c.name);
    return c;
  }

  private view(c: Cluster): Wire<Eks.Cluster> {
    return {
      name: c.name,
      arn: c.arn,
      createdAt: c.createdAt,
      version: c.version,
      roleArn: c.roleArn,
      status: c.status,
      platformVersion: c.platformVersion,
      tags: c.tags,
      ...(c.kube.endpoint ? { endpoint: c.kube.endpoint } : {}),
      ...(c.kube.caData ? { certificateAuthority: { data: c.kube.caData } } : {}),
      kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
      resourcesVpcConfig: {
        subnetIds: [],
        securityGroupIds: [],
        endpointPublicAccess: true,
        endpointPrivateAccess: false,
      },
    };
  }

  private createNodegroup(ctx: RequestContext, cluster: Cluster, input: CreateNodegroupRequest): Nodegroup {
    const name = input.nodegroupName;
    if (cluster.nodegroups.has(name))
      throw new AwsServiceError(
        'ResourceInUseException',
        `NodeGroup already exists with name ${name} and cluster name ${cluster.name}`,
        409,
      );
    const scaling = this.checkScaling({ ...DEFAULT_SCALING, ...input.scalingConfig });
    const ng: Nodegroup = {
      nodegroupName: name,
      nodegroupArn: `arn:aws:eks:${ctx.region}:${ctx.accountId}:nodegroup/${cluster.name}/${name}/${randomUUID()}`,
      clusterName: cluster.name,
      version: cluster.version,
      createdAt: this.now(),
      modifiedAt: this.now(),
      status: 'ACTIVE',
      capacityType: input.capacityType ?? 'ON_DEMAND',
      scalingConfig: scaling,
      instanceTypes: input.instanceTypes ?? ['t3.medium'],
      labels: input.labels ?? {},
      health: { issues: [] },
      tags: input.tags ?? {},
    };
    cluster.nodegroups.set(name, ng);
    return ng;
  }

  /** A complete scaling config within its bounds, or EKS's refusal. */
  private checkScaling(s: { [K in keyof ScalingConfig]?: number | undefined }): ScalingConfig {
    const { minSize, maxSize, desiredSize } = s;
    if (
      minSize === undefined ||
      maxSize === undefined ||
      desiredSize === undefined ||
      !(
        minSize >= 0 &&
        maxSize >= 1 &&
        minSize <= maxSize &&
        desiredSize >= minSize &&
        desiredSize <= maxSize
      )
    ) {
      throw invalid(
        'scalingConfig: desiredSize must be between minSize and maxSize, and minSize not above maxSize',
      );
    }
    return { minSize, maxSize, desiredSize };
  }

  private nodegroup(ctx: RequestContext, input: { name: string; nodegroupName: string }): Nodegroup {
    const ng = this.cluster(ctx, input.name).nodegroups.get(input.nodegroupName);
    if (!ng) throw notFound(`node group found for name: ${input.nodegroupName}`);
    return ng;
  }

  /** Scaling takes effect at once locally; the update is reported Successful. */
  private updateNodegroup(
    ng: Nodegroup,
    scalingConfig: { [K in keyof ScalingConfig]?: number | undefined },
  ): Wire<Eks.Update> {
    const wanted = this.checkScaling({ ...ng.scalingConfig, ...definedMembers(scalingConfig) });
    ng.scalingConfig = wanted;
    ng.modifiedAt = this.now();
    return {
      id: randomUUID(),
      status: 'Successful',
      type: 'ConfigUpdate',
      params: [
        { type: 'MinSize', value: String(wanted.minSize) },
        { type: 'MaxSize', value: String(wanted.maxSize) },
        { type: 'DesiredSize', value: String(wanted.desiredSize) },
      ],
      createdAt: this.now(),
      errors: [],
    };
  }

  private createFargateProfile(
    ctx: RequestContext,
    cluster: Cluster,
    input: CreateFargateProfileRequest,
  ): FargateProfile {
    const name = input.fargateProfileName;
    if (cluster.fargateProfiles.has(name))
      throw new AwsServiceError(
        'ResourceInUseException',
        `Fargate Profile already exists with name ${name}`,
        409,
      );
    const fp: FargateProfile = {
      fargateProfileName: name,
      fargateProfileArn: `arn:aws:eks:${ctx.region}:${ctx.accountId}:fargateprofile/${cluster.name}/${name}/${randomUUID()}`,
      clusterName: cluster.name,
      createdAt: this.now(),
      podExecutionRoleArn: input.podExecutionRoleArn ?? '',
      selectors: input.selectors.map((s) => ({
        namespace: s.namespace,
        ...(s.labels ? { labels: s.labels } : {}),
      })),
      status: 'ACTIVE',
      tags: input.tags ?? {},
    };
    cluster.fargateProfiles.set(name, fp);
    return fp;
  }

  private fargateProfile(
    ctx: RequestContext,
    input: { name: string; fargateProfileName: string },
  ): FargateProfile {
    const fp = this.cluster(ctx, input.name).fargateProfiles.get(input.fargateProfileName);
    if (!fp) throw notFound(`Fargate Profile found for name: ${input.fargateProfileName}`);
    return fp;
  }
}

/** What DescribeNodegroup shows of a node group (not the world-only node size). */
const NODEGROUP_MEMBERS = [
  'nodegroupName',
  'nodegroupArn',
  'clusterName',
  'version',
  'createdAt',
  'modifiedAt',
  'status',
  'capacityType',
  'scalingConfig',
  'instanceTypes',
  'labels',
  'health',
  'tags',
] as const satisfies readonly (keyof Wire<Eks.Nodegroup>)[];

function nodegroupView(ng: Nodegroup): Wire<Eks.Nodegroup> {
  return pick(ng, NODEGROUP_MEMBERS);
}

/** What DescribeFargateProfile shows of a profile. */
const FARGATE_PROFILE_MEMBERS = [
  'fargateProfileName',
  'fargateProfileArn',
  'clusterName',
  'createdAt',
  'podExecutionRoleArn',
  'selectors',
  'status',
  'tags',
] as const satisfies readonly (keyof Wire<Eks.FargateProfile>)[];

function fargateProfileView(fp: FargateProfile): Wire<Eks.FargateProfile> {
  return pick(fp, FARGATE_PROFILE_MEMBERS);
}

/** The members of `o` that are set (a partial update leaves the others as they are). */
function definedMembers<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
