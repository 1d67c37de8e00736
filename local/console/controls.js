// The controls page: push a rebuilt image, run a schedule now, add and remove faults, change the clock.
// Each is one call of the admin API the command line uses; its answer (or error) is announced in the form's
// status line.
import { api, h, replace, table } from './dom.js';

/** A starting spec per fault kind (local/docs/local-cloud.md lists every field). */
const FAULT_EXAMPLES = {
  throttle: { kind: 'throttle', service: 'ecs', operation: 'DescribeServices', rate: 0.5 },
  pullFailure: { kind: 'pullFailure', repository: 'shop/web' },
  containerExit: { kind: 'containerExit', family: 'shop-api', exitCode: 1, afterMs: 5000 },
  containerOom: { kind: 'containerOom', family: 'shop-api', afterMs: 5000 },
  latency: { kind: 'latency', ms: 200 },
  rateLimits: { kind: 'rateLimits', service: '*', scale: 0.1 },
  removeCapacity: { kind: 'removeCapacity', cluster: 'shop', launchType: 'EC2', count: 2 },
};

export class ControlsPage {
  constructor(root, { onClock }) {
    this.onClock = onClock;
    this.repoSelect = h('select', { id: 'push-repository', name: 'repository', required: true });
    this.functionSelect = h('select', { id: 'schedule-function', name: 'function', required: true });
    this.faultList = h('div', { id: 'fault-list' });
    this.speedInput = h('input', {
      id: 'clock-speed',
      name: 'speed',
      type: 'number',
      min: '0',
      max: '10000',
      step: 'any',
      required: true,
    });
    this.clockNow = h('output', { id: 'clock-now', for: 'clock-speed' });
    const faultKind = h(
      'select',
      { id: 'fault-kind', name: 'kind' },
      Object.keys(FAULT_EXAMPLES).map((k) => h('option', { value: k }, k)),
    );
    const faultSpec = h('textarea', {
      id: 'fault-spec',
      name: 'spec',
      rows: '4',
      spellcheck: 'false',
      required: true,
    });
    faultSpec.value = JSON.stringify(FAULT_EXAMPLES.throttle);
    faultKind.addEventListener('change', () => {
      faultSpec.value = JSON.stringify(FAULT_EXAMPLES[faultKind.value]);
    });

    replace(
      root,
      panel(
        'push',
        'Push a rebuilt image',
        'A new image (a new digest) for a tag, as a docker push of a rebuild would upload it; the push event follows.',
        [
          field('push-repository', 'Repository', this.repoSelect),
          field(
            'push-tag',
            'Tag',
            h('input', { id: 'push-tag', name: 'tag', value: 'latest', required: true, autocomplete: 'off' }),
          ),
          h(
            'p',
            { class: 'check' },
            h('input', { id: 'push-multiarch', name: 'multiarch', type: 'checkbox' }),
            h('label', { for: 'push-multiarch' }, 'Multi-arch (an index over linux/amd64 and linux/arm64)'),
          ),
        ],
        'Push',
        async (form) => {
          const repo = JSON.parse(form.repository.value);
          const body = await api('/_harborpilot/push', {
            method: 'POST',
            body: JSON.stringify({
              ...repo,
              tag: form.tag.value,
              ...(form.multiarch.checked ? { platforms: ['linux/amd64', 'linux/arm64'] } : {}),
            }),
          });
          return `Pushed ${repo.repository}:${form.tag.value} as ${body.image.digest}`;
        },
      ),
      panel(
        'schedule',
        'Run a schedule now',
        'Fires the function’s schedule rule now, as if its time had come; answers once the invocation ends.',
        [field('schedule-function', 'Function', this.functionSelect)],
        'Run now',
        async (form) => {
          const name = form.function.value;
          const body = await api(`/_harborpilot/schedules/${encodeURIComponent(name)}`, { method: 'POST' });
          const outcome = body.invocations.map(
            (i) => `${i.status}${i.error ? ` (${i.error})` : ''} in ${i.durationMs} ms`,
          );
          return `${name}: ${outcome.join(', ') || 'no invocation'}`;
        },
      ),
      panel(
        'faults',
        'Faults',
        'Make the local cloud misbehave as AWS does on a bad day. Pick a kind, adjust its spec, add it.',
        [
          this.faultList,
          field('fault-kind', 'Kind', faultKind),
          field('fault-spec', 'Spec (JSON)', faultSpec),
        ],
        'Add fault',
        async (form) => {
          let spec;
          try {
            spec = JSON.parse(form.spec.value);
          } catch (err) {
            throw new Error(`the spec is not JSON: ${err.message}`);
          }
          const body = await api('/_harborpilot/faults', { method: 'POST', body: JSON.stringify(spec) });
          this.faults(body.faults);
          const result = body.results[0];
          return result?.fault
            ? `Added ${result.fault.id} (${result.fault.kind})`
            : `Done: ${JSON.stringify(result)}`;
        },
      ),
      panel(
        'clock',
        'Clock',
        'Simulated milliseconds per real millisecond; 0 stops time. Deployments, retries and schedules follow it.',
        [field('clock-speed', 'Speed', this.speedInput), h('p', {}, 'Now: ', this.clockNow)],
        'Set speed',
        async (form) => {
          const state = await api('/_harborpilot/clock/speed', {
            method: 'POST',
            body: JSON.stringify({ speed: Number(form.speed.value) }),
          });
          this.onClock(state);
          return `Clock speed ×${state.speed}`;
        },
      ),
    );
  }

  /** The repositories to push to, from each fleet snapshot (keeps the choice made). */
  fleet(snapshot) {
    const chosen = this.repoSelect.value;
    // Named with their account and region only when more than one registry has repositories (an organisation's
    // workload accounts often have none).
    const registries = snapshot.scopes.filter((s) => s.ecr.length > 0).length;
    const options = snapshot.scopes.flatMap((s) =>
      s.ecr.map((r) => {
        const value = JSON.stringify({ repository: r.name, accountId: s.accountId, region: s.region });
        const label = registries > 1 ? `${r.name} (${s.accountId}, ${s.region})` : r.name;
        return h('option', { value, selected: value === chosen }, label);
      }),
    );
    this.repoSelect.replaceChildren(...options);
  }

  functions(functions) {
    const scheduled = functions.filter((f) => f.schedules.length > 0);
    this.functionSelect.replaceChildren(
      ...scheduled.map((f) => h('option', { value: f.name }, `${f.name} (${f.schedules.join(', ')})`)),
    );
  }

  faults(faults) {
    replace(
      this.faultList,
      table(
        'Active faults',
        ['Id', 'Kind', 'Spec', 'Remove'],
        faults.map((f) => {
          const { id, kind, ...rest } = f;
          return h(
            'tr',
            { 'data-fault': id },
            h('td', {}, id),
            h('td', {}, kind),
            h('td', {}, h('code', {}, JSON.stringify(rest))),
            h(
              'td',
              {},
              h(
                'button',
                {
                  type: 'button',
                  'aria-label': `Remove ${id} (${kind})`,
                  onclick: async () => {
                    const body = await api(`/_harborpilot/faults/${encodeURIComponent(id)}`, {
                      method: 'DELETE',
                    });
                    this.faults(body.faults);
                  },
                },
                'Remove',
              ),
            ),
          );
        }),
      ),
      faults.length > 1
        ? h(
            'button',
            {
              type: 'button',
              onclick: async () =>
                this.faults((await api('/_harborpilot/faults', { method: 'DELETE' })).faults),
            },
            'Remove all faults',
          )
        : '',
    );
  }

  clock(state) {
    if (document.activeElement !== this.speedInput) this.speedInput.value = String(state.speed);
    this.clockNow.textContent = state.now;
  }
}

function field(id, label, control) {
  return h('p', { class: 'field' }, h('label', { for: id }, label), control);
}

/** A form in its own titled panel; `run` answers the status text, or throws for an error. */
function panel(id, title, hint, fields, submit, run) {
  const status = h('p', { class: 'result', role: 'status', id: `${id}-status` });
  const form = h(
    'form',
    { id: `${id}-form`, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title),
    h('p', { class: 'hint' }, hint),
    fields,
    h('p', {}, h('button', { type: 'submit' }, submit)),
    status,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    status.classList.remove('error');
    status.textContent = 'Working…';
    try {
      status.textContent = await run(form);
    } catch (err) {
      status.classList.add('error');
      status.textContent = `Failed: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
