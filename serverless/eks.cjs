// Resolves rollEks's EKS permissions at package time from eks.clusters in harborpilot.yml: DescribeCluster on
// those clusters only, and ListClusters only when none are configured (then every cluster is rolled).
const { readFileSync, existsSync } = require('node:fs');
const path = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

function loadConfig() {
  const file = path.resolve(__dirname, '..', process.env.HARBORPILOT_CONFIG_FILE || 'harborpilot.yml');
  const { parseConfigYaml } = tsxRequire('../shared/config.ts', __filename);
  return parseConfigYaml(existsSync(file) ? readFileSync(file, 'utf8') : '{}', file);
}

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
