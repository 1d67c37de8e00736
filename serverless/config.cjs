// Resolves HARBORPILOT_CONFIG for serverless.yml: reads harborpilot.yml (or $HARBORPILOT_CONFIG_FILE),
// validates it with the same schema the functions use at cold start, and fails packaging with the
// wrong field named. Runs under the serverless CLI, hence CommonJS and tsx to load the schema.
const { readFileSync, existsSync } = require('node:fs');
const path = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

module.exports.json = async () => {
  const file = path.resolve(__dirname, '..', process.env.HARBORPILOT_CONFIG_FILE || 'harborpilot.yml');
  const { parseConfigYaml } = tsxRequire('../shared/config.ts', __filename);
  const config = parseConfigYaml(existsSync(file) ? readFileSync(file, 'utf8') : '{}', file);
  return JSON.stringify(config);
};
