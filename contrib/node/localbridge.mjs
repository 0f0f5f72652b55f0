// A local EventBridge (LocalBridge) for Node test runners, with Node's built-ins only.
//
// node:test —
//   import { startLocalBridge } from './localbridge.mjs';
//   let lb; before(async () => { lb = await startLocalBridge(); }); after(() => lb.stop());
//   beforeEach(() => lb.reset());
//
// A global setup (vitest `globalSetup`, or any runner that calls setup/teardown once): export
// `setup` and `teardown` from here; setup sets LOCALBRIDGE_ENDPOINT_URL (and AWS_ENDPOINT_URL_
// EVENTBRIDGE, which AWS SDK v3 reads) for the tests, teardown stops the daemon.
//
// Settings: LOCALBRIDGE_BIN (default `localbridge` on PATH), LOCALBRIDGE_ARGS (extra `serve`
// options, split on spaces).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export async function startLocalBridge({
  bin = process.env.LOCALBRIDGE_BIN || 'localbridge',
  args = (process.env.LOCALBRIDGE_ARGS || '').split(' ').filter(Boolean),
  region = 'us-east-1',
} = {}) {
  const child = spawn(bin, ['serve', '--ephemeral', '--region', region, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  // The first stdout line is the bound endpoint, written once the daemon is ready.
  const endpoint = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => { lines.close(); resolve(line.trim()); });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`localbridge exited (${code}): ${stderr}`)));
  });
  child.stderr.resume();

  async function call(method, path, body) {
    const res = await fetch(endpoint + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${json.__type}: ${json.message}`);
    return json;
  }

  return {
    endpoint,
    region,
    /** Wipes buses (but default), rules, targets, events, deliveries, archives, replays. */
    reset: () => call('POST', '/_localbridge/reset', {}),
    /** What targetArn received, waiting up to waitMs until there are `count` deliveries. */
    deliveries: async (targetArn, { count = 1, waitMs = 5000 } = {}) => {
      const q = new URLSearchParams({ target: targetArn, count: String(count), wait: `${waitMs}ms` });
      return (await call('GET', `/_localbridge/deliveries?${q}`)).deliveries;
    },
    /** The event and what happened to each of its deliveries. */
    event: (id) => call('GET', `/_localbridge/events/${encodeURIComponent(id)}`),
    /** One EventBridge API call (AWS JSON 1.1), e.g. api('PutRule', {Name, EventPattern}). */
    api: async (operation, request = {}) => {
      const res = await fetch(endpoint + '/', {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `AWSEvents.${operation}`,
        },
        body: JSON.stringify(request),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${json.__type}: ${json.message}`);
      return json;
    },
    /** SIGTERM: the daemon stops and removes its temporary data dir. */
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

let shared;

export async function setup() {
  shared = await startLocalBridge();
  process.env.LOCALBRIDGE_ENDPOINT_URL = shared.endpoint;
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = shared.endpoint;
  return teardown;
}

export async function teardown() {
  if (shared) await shared.stop();
  shared = undefined;
}

export default setup;
