// The fleet page: GET /_harborpilot/fleet rendered per account and region (ECS, EKS, ECR), and the prune
// plan (GET /_harborpilot/views/prune, when the cloud's caller offers it) beside each image.
import { ago, api, badge, bytes, digest, h, replace, table } from './dom.js';

/** A push or a deletion changes what pruning would do; the plan is read again this long after the last one. */
const PRUNE_REFRESH_MS = 1000;

export class FleetPage {
  constructor(root, onClock) {
    this.root = root;
    this.onClock = onClock;
    this.onSnapshot = undefined;
    this.snapshot = undefined;
    this.prune = undefined;
    this.pruneError = undefined;
    this.loading = undefined;
    this.again = false;
    this.pruneTimer = undefined;
  }

  /** Fetches the snapshot; while one is on its way, at most one more is asked for after it. */
  async refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        this.snapshot = await api('/_harborpilot/fleet');
        performance.mark('fleet-received');
        this.onClock({ now: this.snapshot.now, speed: this.snapshot.speed });
        this.onSnapshot?.(this.snapshot);
        this.render();
        performance.mark('fleet-rendered');
        // The prune plan is pruneImages's own gather (a few dozen API calls): read after the first render.
        if (this.prune === undefined && this.pruneError === undefined && !this.pruneTimer) {
          this.pruneTimer = setTimeout(() => void this.refreshPrune(), 0);
        }
      } catch (err) {
        replace(this.root, h('p', { role: 'alert' }, `Could not read the fleet: ${err.message}`));
      } finally {
        this.loading = undefined;
      }
      if (this.again) {
        this.again = false;
        await this.refresh();
      }
    })();
    return this.loading;
  }

  busEvent(event) {
    if (event.source !== 'aws.ecr') return;
    clearTimeout(this.pruneTimer);
    this.pruneTimer = setTimeout(() => void this.refreshPrune(), PRUNE_REFRESH_MS);
  }

  async refreshPrune() {
    try {
      this.prune = await api('/_harborpilot/views/prune');
      this.pruneError = undefined;
    } catch (err) {
      this.prune = undefined;
      this.pruneError = err.message;
    }
    if (this.snapshot) this.render();
  }

  render() {
    const { scopes, now } = this.snapshot;
    replace(
      this.root,
      scopes.length === 0
        ? h('p', {}, 'The local cloud is empty (started with --empty, or nothing created yet).')
        : '',
      contents(scopes),
      scopes.map((scope) =>
        h(
          'section',
          { class: 'scope', 'aria-label': `Account ${scope.accountId}, ${scope.region}` },
          h('h2', {}, `Account ${scope.accountId} · ${scope.region}`),
          scope.ecs.map((c) => ecsCluster(scope, c)),
          scope.eks.map((c) => eksCluster(scope, c)),
          scope.ecr.length > 0 ? ecr(scope, now, this.pruneFor(scope)) : '',
        ),
      ),
    );
  }

  /** The plan's verdicts by repository and digest, for the default region's registry it covers. */
  pruneFor(scope) {
    if (!this.prune || this.prune.region !== scope.region)
      return { verdicts: undefined, note: this.pruneError };
    const verdicts = new Map();
    for (const repo of this.prune.repositories) {
      for (const image of repo.images) verdicts.set(`${repo.name}@${image.digest}`, image);
    }
    return { verdicts, dryRun: this.prune.dryRun, scope };
  }
}

/** Links to each cluster and registry: the page is long, and a keyboard user should not have to scroll it. */
function contents(scopes) {
  const link = (id, text) => h('li', {}, h('a', { href: `#${id}` }, text));
  return h(
    'nav',
    { 'aria-label': 'Clusters and registries', class: 'contents' },
    h(
      'ul',
      {},
      scopes.flatMap((s) => {
        const at = `${s.accountId}-${s.region}`;
        const where = scopes.length > 1 ? ` (${s.accountId}, ${s.region})` : '';
        return [
          ...s.ecs.map((c) => link(`ecs-${at}-${c.name}`, `ECS ${c.name}${where}`)),
          ...s.eks.map((c) => link(`eks-${at}-${c.name}`, `EKS ${c.name}${where}`)),
          ...(s.ecr.length > 0 ? [link(`ecr-${at}`, `ECR${where}`)] : []),
        ];
      }),
    ),
  );
}

// ── ECS ──────────────────────────────────────────────────────────────────────────────────────────────

function ecsCluster(scope, cluster) {
  const id = `ecs-${scope.accountId}-${scope.region}-${cluster.name}`;
  return h(
    'section',
    { class: 'cluster', 'aria-labelledby': id, 'data-ecs-cluster': cluster.name },
    h('h3', { id }, `ECS cluster ${cluster.name}`),
    table(
      `Services of ${cluster.name}`,
      [
        'Service',
        'Capacity',
        'Desired / running / pending',
        'Task definition',
        'Deployments',
        'Tasks and their digests',
      ],
      cluster.services.map((s) =>
        h(
          'tr',
          { 'data-service': s.name },
          h('th', { scope: 'row' }, s.name),
          h('td', {}, s.launchType),
          h('td', {}, `${s.desired} / ${s.running} / ${s.pending}`),
          h('td', {}, s.taskDefinition),
          h('td', {}, h('ul', { class: 'plain' }, s.deployments.map(deployment))),
          h(
            'td',
            {},
            h(
              'ul',
              { class: 'plain' },
              s.tasks.map((t) =>
                h(
                  'li',
                  { 'data-task': t.id },
                  h('code', { title: t.id }, t.id.slice(0, 8)),
                  ' ',
                  t.lastStatus === 'RUNNING' ? '' : badge(t.lastStatus.toLowerCase(), 'pending'),
                  t.lastStatus === 'RUNNING' ? '' : ' ',
                  t.containers.map((c) => digest(c.digest)),
                  t.instance
                    ? h(
                        'span',
                        { class: 'muted nowrap', title: t.instance },
                        ` on ${shortInstance(t.instance)}`,
                      )
                    : '',
                ),
              ),
            ),
          ),
        ),
      ),
    ),
    table(
      `Container instances of ${cluster.name}`,
      ['Instance', 'Kind', 'Status', 'Tasks', 'Free CPU', 'Free memory'],
      cluster.instances.map((i) => [
        h('code', {}, i.id),
        i.kind,
        i.agentConnected ? badge(i.status) : h('span', {}, badge(i.status), ' agent disconnected'),
        String(i.runningTasks),
        `${i.freeCpu} of ${i.cpu} units`,
        `${i.freeMemory} of ${i.memory} MiB`,
      ]),
      { 'data-instances': cluster.name },
    ),
  );
}

/** `i-…0001`: enough to tell a cluster's instances apart; the whole id is in the title and the table below. */
function shortInstance(id) {
  const dash = id.indexOf('-');
  return id.length > 12 ? `${id.slice(0, dash + 1)}…${id.slice(-4)}` : id;
}

function deployment(d) {
  const digests = Object.values(d.images);
  return h(
    'li',
    { 'data-deployment': d.id, 'data-status': d.status, 'data-rollout': d.rolloutState },
    badge(d.status),
    ' ',
    badge(d.rolloutState.replace('_', ' ').toLowerCase(), d.rolloutState.toLowerCase()),
    ` ${d.running}/${d.desired} running`,
    d.pending ? `, ${d.pending} pending` : '',
    d.failed ? `, ${d.failed} failed` : '',
    ' ',
    digests.map((x) => (x.startsWith('sha256:') ? digest(x) : h('span', { class: 'error' }, x))),
    h('span', { class: 'muted', title: d.rolloutStateReason }, ` ${d.id.slice(-6)}`),
  );
}

// ── EKS ──────────────────────────────────────────────────────────────────────────────────────────────

function eksCluster(scope, c) {
  const id = `eks-${scope.accountId}-${scope.region}-${c.name}`;
  const groups = [
    ...c.nodegroups.map(
      (g) =>
        `node group ${g.name}: ${g.desiredSize} × ${g.instanceTypes.join(', ')} (${g.minSize}–${g.maxSize}, ${g.capacityType}, ${g.status})`,
    ),
    ...c.fargateProfiles.map((f) => `Fargate profile ${f}`),
  ];
  return h(
    'section',
    { class: 'cluster', 'aria-labelledby': id, 'data-eks-cluster': c.name },
    h('h3', { id }, `EKS cluster ${c.name}`, h('span', { class: 'muted' }, ` Kubernetes ${c.version}`)),
    h('p', {}, groups.join(' · ')),
    table(
      `Workloads of ${c.name}`,
      ['Workload', 'Ready / desired', 'Updated', 'Images'],
      c.workloads.map((w) =>
        h(
          'tr',
          { 'data-workload': `${w.namespace}/${w.name}` },
          h('th', { scope: 'row' }, `${w.kind} ${w.namespace}/${w.name}`),
          h('td', {}, `${w.ready} / ${w.desired}`),
          h('td', {}, String(w.updated)),
          h(
            'td',
            {},
            w.images.map((i) => h('code', { class: 'image' }, i)),
          ),
        ),
      ),
    ),
    table(
      `Pods of ${c.name}`,
      ['Pod', 'Owner', 'Node', 'Phase', 'Image ID'],
      c.pods.map((p) =>
        h(
          'tr',
          { 'data-pod': `${p.namespace}/${p.name}` },
          h('th', { scope: 'row' }, `${p.namespace}/${p.name}`),
          h('td', {}, p.owner),
          h('td', {}, h('code', {}, p.node || '—')),
          h('td', {}, badge(p.ready ? p.phase : `${p.phase} (not ready)`, p.ready ? 'running' : 'pending')),
          h(
            'td',
            {},
            p.images.map((i) => digest(i.imageID.split('@')[1])),
          ),
        ),
      ),
    ),
    table(
      `Nodes of ${c.name}`,
      ['Node', 'Group', 'Instance type', 'Ready', 'Allocatable CPU', 'Allocatable memory'],
      c.nodes.map((n) => [
        h('code', {}, n.name),
        n.group,
        n.instanceType || '—',
        n.ready ? 'yes' : 'no',
        n.cpu,
        n.memory,
      ]),
    ),
  );
}

// ── ECR ──────────────────────────────────────────────────────────────────────────────────────────────

function ecr(scope, now, prune) {
  const id = `ecr-${scope.accountId}-${scope.region}`;
  return h(
    'section',
    { class: 'cluster', 'aria-labelledby': id },
    h('h3', { id }, 'ECR repositories'),
    prune.verdicts
      ? h(
          'p',
          { class: 'hint' },
          `The prune column is what pruneImages would do now${prune.dryRun ? ' (this world plans only: dryRun is on)' : ''}, and why.`,
        )
      : h(
          'p',
          { class: 'hint' },
          prune.loading
            ? 'Reading what pruneImages would do…'
            : `No prune plan for this region${prune.note ? ` (${prune.note})` : ''}.`,
        ),
    scope.ecr.map((repo) => repository(repo, now, prune)),
  );
}

/** Images newest first; an index's platform manifests and the artifacts about an image right below it. */
function ordered(images) {
  const byDigest = new Map(images.map((i) => [i.digest, i]));
  const below = new Map();
  const top = [];
  for (const image of images) {
    const owner = image.parent ?? image.subject;
    if (owner && byDigest.has(owner)) below.set(owner, [...(below.get(owner) ?? []), image]);
    else top.push(image);
  }
  const out = [];
  const visit = (image, depth) => {
    out.push({ image, depth });
    for (const child of below.get(image.digest) ?? []) visit(child, depth + 1);
  };
  for (const image of top) visit(image, 0);
  return out;
}

function kindOf(image) {
  if (image.children.length > 0) return `index of ${image.children.length} platforms`;
  if (image.parent) return 'platform manifest';
  if (image.artifactMediaType?.includes('cosign') || image.tags.some((t) => t.endsWith('.sig')))
    return 'signature';
  if (image.subject) return 'attestation';
  return 'image';
}

function repository(repo, now, prune) {
  return table(
    `Repository ${repo.name}`,
    ['Tags', 'Digest', 'Kind', 'Pushed', 'Size', 'Used by', 'Pruning'],
    ordered(repo.images).map(({ image, depth }) => {
      const verdict = prune.verdicts?.get(`${repo.name}@${image.digest}`);
      return h(
        'tr',
        { 'data-image': image.digest, class: depth > 0 ? 'child' : undefined },
        h(
          'td',
          { class: depth > 0 ? `indent-${Math.min(depth, 2)}` : undefined },
          depth > 0 ? h('span', { 'aria-hidden': 'true' }, '↳ ') : '',
          image.tags.length
            ? image.tags.map((t) => h('span', { class: 'tag' }, t))
            : h('span', { class: 'muted' }, 'untagged'),
        ),
        h('td', {}, digest(image.digest)),
        h('td', {}, kindOf(image)),
        h('td', {}, ago(image.pushedAt, now)),
        h('td', {}, bytes(image.sizeBytes)),
        h(
          'td',
          {},
          image.usedBy.length
            ? h(
                'ul',
                { class: 'plain' },
                image.usedBy.map((u) => h('li', {}, u)),
              )
            : h('span', { class: 'muted' }, 'nothing'),
        ),
        h(
          'td',
          { 'data-prune': verdict?.verdict ?? '' },
          verdict
            ? h(
                'details',
                { 'data-key': `prune-${repo.name}-${image.digest}` },
                h(
                  'summary',
                  {},
                  badge(verdict.verdict === 'delete' ? 'would delete' : 'keep', verdict.verdict),
                ),
                h(
                  'ul',
                  { class: 'plain why' },
                  verdict.why.map((w) => h('li', {}, w)),
                ),
              )
            : h('span', { class: 'muted' }, prune.verdicts ? 'not covered' : '—'),
        ),
      );
    }),
    { 'data-repository': repo.name },
  );
}
