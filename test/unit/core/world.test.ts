import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorldFile, parseWorld, parseWorldYaml, WorldError, worldJsonSchema } from '../../../local/world';
import { ConfigSchema } from '../../../shared/config';

// harborpilot's world files: the local cloud checks their `config:` with harborpilot's schema.
const withConfig = { config: ConfigSchema };

const SCHEMA_FILE = new URL('../../../worlds/world.schema.json', import.meta.url);
const DEMO_FILE = new URL('../../../worlds/demo.yml', import.meta.url);

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof WorldError) return err.problems;
    throw err;
  }
  throw new Error('expected a WorldError');
}

describe('world loader', () => {
  it('fills the defaults of an empty world', () => {
    expect(parseWorld({}, 'world', withConfig)).toMatchObject({
      accountId: '000000000000',
      region: 'us-east-1',
      accounts: [],
      faults: [],
      clock: {},
    });
  });

  it.each([
    ['an unknown top-level section', { ecrs: {} }, /^\(root\): Unrecognized key: "ecrs"/],
    ['a bad account id', { accountId: '123' }, /^accountId: must be a 12-digit account id/],
    [
      'an account without keys',
      { accounts: [{ accountId: '111111111111', accessKeys: [] }] },
      /^accounts\.0\.accessKeys:/,
    ],
    [
      'a wrong config field',
      { config: { ecs: { defaultPolicy: 'sometimes' } } },
      /^config\.ecs\.defaultPolicy: invalid update policy/,
    ],
    [
      'an unknown config field',
      { config: { prune: { keepAll: true } } },
      /^config\.prune: Unrecognized key: "keepAll"/,
    ],
    [
      'a throttle rate above 1',
      { faults: [{ kind: 'throttle', service: 'ecs', rate: 2 }] },
      /^faults\.0\.rate:/,
    ],
    ['an unknown fault kind', { faults: [{ kind: 'meteor' }] }, /^faults\.0\.kind:/],
    ['a negative clock speed', { clock: { speed: -1 } }, /^clock\.speed:/],
    [
      'a field of the ECR section',
      { ecr: { repositories: [{ name: 'a/b', images: [{ tga: 'v1' }] }] } },
      /^ecr\.repositories\.0\.images\.0: Unrecognized key: "tga"/,
    ],
  ])('names the field for %s', (_what, doc, pattern) => {
    expect(problemsOf(() => parseWorld(doc, 'world', withConfig))).toEqual(
      expect.arrayContaining([expect.stringMatching(pattern)]),
    );
  });

  it('keeps the config section as written (it is merged over harborpilot.yml later)', () => {
    expect(parseWorld({ config: { prune: { keepLast: 2 } } }, 'world', withConfig).config).toEqual({
      prune: { keepLast: 2 },
    });
  });

  it('reports YAML syntax errors with the line and the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'world-'));
    const file = join(dir, 'broken.yml');
    writeFileSync(file, 'region: us-east-1\necr:\n  repositories: [\n');
    const err = (() => {
      try {
        loadWorldFile(file, withConfig);
      } catch (e) {
        return e as WorldError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(WorldError);
    expect(err?.message).toContain(file);
    expect(err?.problems[0]).toMatch(/^not valid YAML at line \d+/);
    expect(problemsOf(() => loadWorldFile(join(dir, 'absent.yml'), withConfig))[0]).toMatch(
      /cannot read the file/,
    );
  });

  it('loads the demo world', () => {
    const world = parseWorldYaml(readFileSync(DEMO_FILE, 'utf8'), 'demo.yml', withConfig);
    expect(world.ecr?.repositories?.map((r) => r.name)).toContain('shop/web');
    expect(world.accounts[0]?.accessKeys).toEqual(['staging']);
  });

  it('the demo world shows every ECS launch type, EKS node kinds and a multi-arch repository', () => {
    const world = parseWorldYaml(readFileSync(DEMO_FILE, 'utf8'), 'demo.yml', withConfig);
    const services = world.ecs?.clusters?.flatMap((c) => c.services ?? []) ?? [];
    const launchTypes = services.map((s) =>
      s.capacityProviderStrategy?.some((p) => p.capacityProvider.startsWith('FARGATE'))
        ? 'FARGATE'
        : s.launchType,
    );
    expect(new Set(launchTypes)).toEqual(new Set(['EC2', 'FARGATE', 'EXTERNAL']));
    const instances = world.ecs?.clusters?.flatMap((c) => c.containerInstances ?? []) ?? [];
    expect(new Set(instances.map((i) => i.kind))).toEqual(new Set(['EC2', 'EXTERNAL']));
    const eks = world.eks?.clusters?.[0];
    expect([eks?.nodes?.length, eks?.nodegroups?.length, eks?.fargateProfiles?.length]).toEqual([1, 1, 1]);
    const multiArch = world.ecr?.repositories?.filter((r) =>
      r.images?.some((i) => (i.platforms?.length ?? 0) >= 2),
    );
    expect(multiArch?.map((r) => r.name)).toEqual(['shop/web']);
  });

  it('ships an up-to-date JSON schema (UPDATE_WORLD_SCHEMA=1 rewrites it)', () => {
    const expected = worldJsonSchema(ConfigSchema);
    if (process.env.UPDATE_WORLD_SCHEMA === '1')
      writeFileSync(SCHEMA_FILE, `${JSON.stringify(expected, null, 2)}\n`);
    // Compared as data: biome may reformat the file.
    expect(
      JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')),
      'worlds/world.schema.json is stale: UPDATE_WORLD_SCHEMA=1 npx vitest run test/unit/local/world.test.ts',
    ).toEqual(expected);
  });
});
