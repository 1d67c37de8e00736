// The roles harborpilot's functions assume in other accounts (targets in harborpilot.yml, docs/organisation.md),
// resolved at package time: each target's role ARN, as the functions compute it (shared/targets.ts roleArnOf).
// serverless.yml keeps them in custom.targets.roleArns; serverless/targets-plugin.cjs grants sts:AssumeRole on them.
const { loadConfigForIam: loadConfig } = require('./load-config.cjs');
const { require: tsxRequire } = require('tsx/cjs/api');

/** The role ARNs of harborpilot.yml's targets, in config order (one per account); [] with no targets. */
module.exports.roleArns = async () => {
  const { roleArnOf } = tsxRequire('../shared/targets.ts', __filename);
  return loadConfig().targets.map((t) => roleArnOf(t.role, t.account));
};
