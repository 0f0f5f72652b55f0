// An example test with node:test: `node --test contrib/node/` (LOCALBRIDGE_BIN=path/to/localbridge
// when it is not on PATH).
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLocalBridge } from './localbridge.mjs';

const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:orders';
let lb;

before(async () => { lb = await startLocalBridge(); });
after(() => lb.stop());
beforeEach(() => lb.reset());

test('an order event reaches its target', async () => {
  await lb.api('PutRule', { Name: 'orders', EventPattern: JSON.stringify({ source: ['shop'] }) });
  await lb.api('PutTargets', { Rule: 'orders', Targets: [{ Id: 'queue', Arn: QUEUE }] });
  const out = await lb.api('PutEvents', {
    Entries: [{ Source: 'shop', DetailType: 'OrderPlaced', Detail: JSON.stringify({ order: 42 }) }],
  });
  assert.equal(out.FailedEntryCount, 0);
  const [got] = await lb.deliveries(QUEUE, { count: 1, waitMs: 5000 });
  assert.deepEqual(JSON.parse(got.body).detail, { order: 42 });
  const story = await lb.event(out.Entries[0].EventId);
  assert.deepEqual(story.deliveries.map((d) => d.rule), ['orders']);
});

test('each test starts from a clean daemon', async () => {
  assert.deepEqual((await lb.api('ListRules')).Rules, []);
});

test('the global setup hands out the endpoint', async () => {
  const { setup, teardown } = await import('./localbridge.mjs');
  await setup();
  assert.match(process.env.LOCALBRIDGE_ENDPOINT_URL, /^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await fetch(`${process.env.LOCALBRIDGE_ENDPOINT_URL}/health`);
  assert.equal(res.status, 200);
  await teardown();
});
