// Grants sts:AssumeRole on exactly the role ARNs of harborpilot.yml's targets (custom.targets.roleArns, resolved
// by serverless/targets.cjs) to each function of custom.targets.functions: one statement, appended to the
// policy serverless.yml names after the function, once the template's resources are merged. With no targets it
// adds nothing, so a single-account stack has no sts:AssumeRole statement at all (a variable cannot leave a
// statement out of a YAML list, and IAM rejects a statement without a resource, hence a plugin).
module.exports = class HarborpilotTargets {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.grantAssumeRole(),
    };
  }

  grantAssumeRole() {
    const service = this.serverless.service;
    const { roleArns, functions } = service.custom.targets;
    if (roleArns.length === 0) return;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    for (const name of functions) {
      const role = resources[service.functions[name]?.role];
      const policy = role?.Properties?.Policies?.find((p) => p.PolicyName === name);
      if (!policy) {
        throw new Error(
          `custom.targets.functions: ${name} has no role with a policy named ${name} (serverless/targets-plugin.cjs)`,
        );
      }
      policy.PolicyDocument.Statement.push({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArns });
    }
  }
};
