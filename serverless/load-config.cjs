// harborpilot.yml (or HARBORPILOT_CONFIG_FILE) parsed with the same schema the functions use at cold start,
// for the package-time resolvers beside this file: a wrong value fails `serverless package` naming the field.
const { readFileSync, existsSync } = require('node:fs');
const path = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

function parse(readFile) {
  const file = path.resolve(__dirname, '..', process.env.HARBORPILOT_CONFIG_FILE || 'harborpilot.yml');
  const { parseConfigYaml } = tsxRequire('../shared/config-file.ts', __filename);
  return parseConfigYaml(readFile && existsSync(file) ? readFileSync(file, 'utf8') : '{}', file);
}

/**
 * The validated config. serverless prints a rejection's stack: the error's stack is its message alone, so
 * the user reads which field is wrong, not our call frames.
 */
module.exports.loadConfig = function loadConfig() {
  try {
    return parse(true);
  } catch (err) {
    if (err instanceof Error) err.stack = `${err.name}: ${err.message}`;
    throw err;
  }
};

/**
 * For the IAM resolvers: the validated config, or the defaults when it is invalid. The error is reported
 * once, by config.cjs (HARBORPILOT_CONFIG, which every package resolves), instead of once per statement;
 * packaging fails either way, so these defaults never reach a template.
 */
module.exports.loadConfigForIam = function loadConfigForIam() {
  try {
    return parse(true);
  } catch {
    return parse(false);
  }
};
