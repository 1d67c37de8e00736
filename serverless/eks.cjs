// Resolves rollEks's EKS permissions at package time from eks.clusters in harborpilot.yml: DescribeCluster on
// those clusters only, and ListClusters only when none are configured (then every cluster is rolled).
const { loadConfigForIam: loadConfig } = require('./load-config.cjs');

module.exports.clusterArns = async () => {
  const clusters = loadConfig().eks.clusters;
  return (clusters.length === 0 ? ['*'] : clusters).map((name) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:eks:\${AWS::Region}:\${AWS::AccountId}:cluster/${name}`,
  }));
};

/** The node groups of those clusters (all node groups when none are configured). */
module.exports.nodegroupArns = async () => {
  const clusters = loadConfig().eks.clusters;
  return (clusters.length === 0 ? ['*'] : clusters).map((name) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:eks:\${AWS::Region}:\${AWS::AccountId}:nodegroup/${name}/*/*`,
  }));
};

/** Allow when no clusters are configured (rollEks lists them); an explicit Deny otherwise. */
module.exports.listClustersEffect = async () => (loadConfig().eks.clusters.length === 0 ? 'Allow' : 'Deny');
