// Resolves the ECS permissions of redeployEcs, pruneImages, checkCapacity and trackDeployments at package time from ecs.clusters
// in harborpilot.yml: those clusters' services, tasks and instances only, and ListClusters only when none are
// configured (then every cluster is read).
// A configured cluster may be a name (this stack's account and region) or a full cluster ARN.
const { loadConfigForIam: loadConfig } = require('./load-config.cjs');

const CLUSTER_ARN = /^arn:([^:]+):ecs:([^:]+):(\d{12}):cluster\/(.+)$/;

/** ARNs of `kind` (cluster, or service, task, … as `<kind>/<cluster>/*`) in each configured cluster, or in all. */
function arnsOf(kind) {
  const clusters = loadConfig().ecs.clusters;
  const suffix = kind === 'cluster' ? '' : '/*';
  if (clusters.length === 0) {
    return [{ 'Fn::Sub': `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:${kind}/*` }];
  }
  return clusters.map((cluster) => {
    const arn = CLUSTER_ARN.exec(cluster);
    if (arn) {
      const [, partition, region, account, name] = arn;
      return `arn:${partition}:ecs:${region}:${account}:${kind}/${name}${suffix}`;
    }
    return {
      'Fn::Sub': `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:${kind}/${cluster}${suffix}`,
    };
  });
}

module.exports.clusterArns = async () => arnsOf('cluster');
module.exports.serviceArns = async () => arnsOf('service');
module.exports.taskArns = async () => arnsOf('task');
module.exports.containerInstanceArns = async () => arnsOf('container-instance');
module.exports.serviceRevisionArns = async () => arnsOf('service-revision');
module.exports.serviceDeploymentArns = async () => arnsOf('service-deployment');
/** Allow when no clusters are configured (redeployEcs lists them); an explicit Deny otherwise. */
module.exports.listClustersEffect = async () => (loadConfig().ecs.clusters.length === 0 ? 'Allow' : 'Deny');
