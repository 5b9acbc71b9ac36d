import { parentPort, workerData } from 'node:worker_threads';
import { closedLoop, type LoadOptions } from './load.js';

/**
 * Worker-thread entry of runLoad (bench-kit.ts): the load is generated on its own thread, so that the
 * client's work does not queue on the event loop of the API it measures.
 */
if (!parentPort) throw new Error('load-worker.js runs as a worker thread only (see runLoad in bench-kit.ts)');
const result = await closedLoop(workerData as LoadOptions);
parentPort.postMessage(result, [result.latenciesMs.buffer]);
