// Resolves HARBORPILOT_CONFIG for serverless.yml: harborpilot.yml (or $HARBORPILOT_CONFIG_FILE) validated with
// the same schema the functions use at cold start, so packaging fails with the wrong field named.
// Runs under the serverless CLI, hence CommonJS (load-config.cjs loads the TypeScript schema through tsx).
const { loadConfig } = require('./load-config.cjs');

module.exports.json = async () => JSON.stringify(loadConfig());
