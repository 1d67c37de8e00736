// harborpilot.yml (or HARBORPILOT_CONFIG_FILE) parsed with the same schema the functions use at cold start,
// for the package-time resolvers beside this file: a wrong value fails `serverless package` naming the field.
const { readFileSync, existsSync } = require('node:fs');
const path = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

module.exports.loadConfig = function loadConfig() {
  const file = path.resolve(__dirname, '..', process.env.HARBORPILOT_CONFIG_FILE || 'harborpilot.yml');
  const { parseConfigYaml } = tsxRequire('../shared/config.ts', __filename);
  return parseConfigYaml(existsSync(file) ? readFileSync(file, 'utf8') : '{}', file);
};
