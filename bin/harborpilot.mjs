#!/usr/bin/env node
// harborpilot's command line. Plain ESM so `npx harborpilot` and `npm start` need no build step: it
// registers tsx, then imports the TypeScript module of the subcommand. Each module exports
// `main(args: string[]): Promise<number | undefined>` (the exit code; undefined keeps the process
// running, e.g. a server that exits on its own signal handling).
import { register } from 'tsx/esm/api';

// The AWS SDK warns in seven lines, on every command, that its releases from January 2027 need Node 22. The
// lockfile pins the SDK, so nothing changes for this checkout on Node 20; the Lambda runtime is nodejs22.x.
// One short line instead, once per command, where it applies.
if (
  Number(process.versions.node.split('.')[0]) < 22 &&
  !process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.stderr.write(
    `harborpilot: Node ${process.versions.node} works; Node 22 is recommended (the AWS SDK needs it from January 2027).\n`,
  );
}

register();

/** Subcommands. */
const COMMANDS = {
  local: {
    module: '../cli/local.ts',
    summary: 'run the local cloud (AWS stand-in + the functions) on one port',
  },
  plan: {
    module: '../cli/plan.ts',
    summary: 'what the functions would do now, changing nothing: plan push <image> | prune | capacity',
  },
  freeze: {
    module: '../cli/holds.ts',
    summary: 'hold every automatic change to a workload: freeze <workload> --reason TEXT [--until TIME]',
  },
  unfreeze: { module: '../cli/holds.ts', summary: 'end a freeze: unfreeze <workload>' },
  rollback: {
    module: '../cli/holds.ts',
    summary: 'back to the previous images, then frozen: rollback <workload> [--dry-run]',
  },
  approve: { module: '../cli/holds.ts', summary: 'approve a pending approval: approve <id>' },
  reject: { module: '../cli/holds.ts', summary: 'reject a pending approval: reject <id>' },
  holds: { module: '../cli/holds.ts', summary: 'list freezes, held pushes and pending approvals' },
  release: {
    module: '../cli/holds.ts',
    summary: 'deploy an image the scan gate holds anyway: release <repository>@<digest> --reason TEXT',
  },
  bench: {
    module: '../bench/index.ts',
    summary: 'run the benchmarks (redeploy at scale, prune, alert storm, bundles); writes bench/results.json',
  },
};

function usage() {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return (
    `usage: harborpilot <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    'Run `harborpilot <command> --help` for the options of a command.\n'
  );
}

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
  process.exit(name ? 0 : 2);
}
const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
if (!command) {
  process.stderr.write(`harborpilot: unknown command "${name}"\n\n${usage()}`);
  process.exit(2);
}
try {
  const mod = await import(new URL(command.module, import.meta.url).href);
  // A module serving several commands (cli/holds.ts) learns which one from the second argument.
  const code = await mod.main(args, name);
  if (typeof code === 'number') process.exitCode = code;
} catch (err) {
  process.stderr.write(`harborpilot ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
