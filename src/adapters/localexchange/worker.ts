import { parentPort, workerData } from 'node:worker_threads';
import { LocalExchange, type LocalExchangeOptions } from './server.js';

/**
 * Runs the local exchange in a worker thread (benchmarks, and any caller that wants the market
 * generator off its own event loop). Messages: the worker posts {kind:'ready', port}; send
 * {kind:'faults', spec}, {kind:'metrics'} (answered with {kind:'metrics', metrics}) or {kind:'close'}.
 */
const ex = await LocalExchange.start(workerData as LocalExchangeOptions);
parentPort!.postMessage({ kind: 'ready', port: ex.port });
parentPort!.on('message', async (msg: { kind: string; spec?: string }) => {
  if (msg.kind === 'faults') ex.faults.set(msg.spec ?? '');
  else if (msg.kind === 'metrics') parentPort!.postMessage({ kind: 'metrics', metrics: { ...ex.metrics, arrivals: undefined, faults: ex.faults.firedCounts() } });
  else if (msg.kind === 'close') {
    await ex.close();
    parentPort!.close();
  }
});
