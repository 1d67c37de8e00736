/**
 * harborpilot.yml as a file: YAML read into a config. For the CLI, `serverless package` and the local cloud;
 * never imported by a function (Lambda gets its config as JSON in HARBORPILOT_CONFIG), so no function bundle
 * carries a YAML parser.
 */
import { parse as parseYaml } from 'yaml';
import { type Config, ConfigError, parseConfig } from './config';
import { errorMessage } from './errors';

/** A harborpilot.yml's text as a document, not yet validated (an empty file is `{}`). */
export function configDocument(text: string, source: string): unknown {
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(source, [`not valid YAML: ${errorMessage(err)}`]);
  }
}

export function parseConfigYaml(text: string, source: string): Config {
  return parseConfig(configDocument(text, source), source);
}
