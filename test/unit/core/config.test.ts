import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ConfigError, ConfigSchema, configFromEnv } from '../../../shared/config';
import { parseConfigYaml } from '../../../shared/config-file';

describe('configuration', () => {
  it('has safe defaults: redeploy on, pruning only plans', () => {
    const config = configFromEnv({});
    expect(config.dryRun).toBe(false);
    expect(config.prune.dryRun).toBe(true);
    expect(config.ecs.defaultPolicy).toBe('force');
    expect(config.ecs.clusters).toEqual([]);
    expect(config.alerts.windowMinutes).toBe(10);
  });

  it('reads the shipped harborpilot.yml', async () => {
    const { readFile } = await import('node:fs/promises');
    const config = parseConfigYaml(await readFile('harborpilot.yml', 'utf8'), 'harborpilot.yml');
    expect(config.prune.protectTags).toContain('latest');
  });

  it.each([
    ['{"ecs":{"defaultPolicy":"sometimes"}}', /ecs\.defaultPolicy: invalid update policy "sometimes"/],
    ['{"ecs":{"cluster":["prod"]}}', /ecs: Unrecognized key: "cluster"/],
    ['{"alerts":{"to":["not-an-email"]}}', /alerts\.to\.0: Invalid email/],
    ['{"prune":{"keepLast":-1}}', /prune\.keepLast/],
    ['{"dryRun":"yes"}', /dryRun: Invalid input: expected boolean/],
    ['[1,2]', /\(root\): expected a JSON object/],
    ['{oops', /not valid JSON/],
  ])('HARBORPILOT_CONFIG=%s fails naming the field', (raw, message) => {
    expect(() => configFromEnv({ HARBORPILOT_CONFIG: raw })).toThrow(ConfigError);
    expect(() => configFromEnv({ HARBORPILOT_CONFIG: raw })).toThrow(message);
  });

  it('environment overrides: HARBORPILOT_DRY_RUN and HARBORPILOT_TABLE', () => {
    const config = configFromEnv({ HARBORPILOT_DRY_RUN: 'true', HARBORPILOT_TABLE: 'prod-state' });
    expect(config.dryRun).toBe(true);
    expect(config.stateTable).toBe('prod-state');
    expect(() => configFromEnv({ HARBORPILOT_DRY_RUN: 'maybe' })).toThrow(
      /HARBORPILOT_DRY_RUN\): expected true or false/,
    );
  });

  it('harborpilot.yml shows every field of the schema (the README says every one is documented there)', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile('harborpilot.yml', 'utf8');
    type Props = { properties?: Record<string, Props> };
    const schema = z.toJSONSchema(ConfigSchema, { io: 'input' }) as Props;
    const missing: string[] = [];
    for (const [key, value] of Object.entries(schema.properties ?? {})) {
      if (!value.properties) {
        // A top-level field, set or shown commented out at the start of a line.
        if (!new RegExp(`^#? ?${key}:`, 'm').test(text)) missing.push(key);
        continue;
      }
      const section = new RegExp(`^${key}:\\n((?:[ #].*\\n|\\n)*)`, 'm').exec(text)?.[1] ?? '';
      for (const field of Object.keys(value.properties)) {
        if (!new RegExp(`^  #? ?${field}:`, 'm').test(section)) missing.push(`${key}.${field}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('a YAML syntax error names the file', () => {
    expect(() => parseConfigYaml('ecs: [', 'my.yml')).toThrow(/my\.yml.*not valid YAML/);
  });
});
