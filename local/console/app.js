// The console's entry: page switching (#fleet, #activity, #mail, #controls), one server-sent event stream
// (GET /_harborpilot/stream) that feeds every page, and the header (simulated clock, speed, connection).
// Nothing polls: the fleet is fetched again only when the stream says it changed.
import { ActivityPage } from './activity.js';
import { ControlsPage } from './controls.js';
import { api } from './dom.js';
import { FleetPage } from './fleet.js';
import { MailPage } from './mail.js';

const PAGES = ['fleet', 'activity', 'mail', 'controls'];

const clock = { now: undefined, speed: 0, at: 0 };
const fleet = new FleetPage(document.getElementById('fleet-view'), onClock);
const activity = new ActivityPage({
  invocations: document.getElementById('invocations'),
  events: document.getElementById('events'),
  dlq: document.getElementById('dlq'),
});
const mail = new MailPage(
  document.getElementById('mailbox'),
  document.getElementById('message'),
  document.getElementById('mail-count'),
);
const controls = new ControlsPage(document.getElementById('controls-view'), { onClock });

function show() {
  const page = PAGES.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'fleet';
  for (const name of PAGES) {
    document.getElementById(`page-${name}`).hidden = name !== page;
    const link = document.querySelector(`nav a[data-page="${name}"]`);
    if (name === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${page[0].toUpperCase()}${page.slice(1)} · harborpilot local cloud`;
  document.body.dataset.page = page;
}

function onClock(state) {
  clock.now = Date.parse(state.now);
  clock.speed = state.speed;
  clock.at = performance.now();
  document.getElementById('speed').textContent = state.speed === 0 ? 'stopped' : `×${state.speed}`;
  controls.clock(state);
  tick();
}

/** The simulated time, moved on locally between updates at the known speed (no request for it). */
function tick() {
  if (clock.now === undefined) return;
  const now = new Date(clock.now + (performance.now() - clock.at) * clock.speed);
  document.getElementById('clock').textContent = `${now.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
setInterval(tick, 1000);

function live(on, text) {
  const el = document.getElementById('live');
  el.textContent = text;
  el.classList.toggle('off', !on);
}

function connect() {
  const stream = new EventSource('/_harborpilot/stream');
  const on = (name, fn) =>
    stream.addEventListener(name, (e) => {
      try {
        fn(JSON.parse(e.data));
      } catch (err) {
        console.error(`console: ${name} event`, err);
      }
    });
  stream.addEventListener('open', () => live(true, 'live'));
  stream.addEventListener('error', () => live(false, 'reconnecting…'));
  let reconnect = false;
  on('hello', (hello) => {
    // On every (re)connect: the history the stream starts from; after a reconnect, a fresh look at what
    // changed while it was down (the first look is taken at start, without waiting for the stream).
    activity.reset(hello);
    controls.faults(hello.faults);
    onClock(hello.clock);
    if (reconnect) {
      void fleet.refresh();
      void mail.refresh();
    }
    reconnect = true;
  });
  on('bus', (event) => {
    activity.event(event);
    fleet.busEvent(event);
  });
  on('invocation', (invocation) => activity.invocation(invocation));
  on('deadLetter', (deadLetter) => activity.deadLetter(deadLetter));
  on('mail', (message) => mail.add(message));
  on('faults', (body) => controls.faults(body.faults));
  on('clock', (state) => onClock(state));
  on('fleet', () => void fleet.refresh());
}

window.addEventListener('hashchange', show);
show();
fleet.onSnapshot = (snapshot) => controls.fleet(snapshot);
connect();
void fleet.refresh();
void mail.refresh();
api('/_harborpilot/functions').then(
  (body) => controls.functions(body.functions),
  (err) => console.error('console: functions', err),
);
