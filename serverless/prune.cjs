// Resolves the ECR repository ARNs pruneImages may delete from, at package time, from prune.repositories in
// harborpilot.yml: BatchDeleteImage is granted on those repositories only. IAM wildcards (`*`, `?`) match at
// least what the glob matches; a pattern IAM cannot express (braces, brackets, negation) widens to every
// repository, because a narrower grant would make the function fail where the config says it should prune.
const { loadConfigForIam: loadConfig } = require('./load-config.cjs');

const IAM_SAFE = /^[A-Za-z0-9._/*?-]+$/;

function repositoryPatterns() {
  const config = loadConfig();
  const patterns = config.prune.repositories.map((p) => p.replaceAll('**', '*'));
  if (patterns.length === 0 || patterns.some((p) => !IAM_SAFE.test(p))) return ['*'];
  return [...new Set(patterns)];
}

module.exports.repositoryArns = async () =>
  repositoryPatterns().map((p) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:ecr:\${AWS::Region}:\${AWS::AccountId}:repository/${p}`,
  }));
module.exports.repositoryPatterns = repositoryPatterns;
/** The SES sender the report may use (`ses:FromAddress` condition). */
module.exports.alertsFrom = async () => loadConfig().alerts.from;
