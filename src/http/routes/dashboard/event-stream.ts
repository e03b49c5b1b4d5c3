import type { ServerResponse } from 'node:http';
import { GafferError } from '../../../core/errors.js';
import type { Logger } from '../../../ports/logger.js';
import type { ClusterFeed, Sample } from './cluster-feed.js';
import { chartPointOf, decisionKey, inFocus, poolPage, poolRow, queuePage, unseenDecisions, workerPage, type Frame } from './frame.js';
import type { DashboardQuery } from './query.js';

/** Failures listed per frame: the newest, enough to see a pattern. */
const FAILURES_SHOWN = 20;
/** How long the browser waits before it reconnects a dropped stream. */
const RETRY_MS = 2000;

export interface StreamOptions {
  feed: ClusterFeed;
  query: DashboardQuery;
  logger: Logger;
  /** How far back a new stream's decisions go: the chart's span. */
  historyMs: number;
}

/**
 * One dashboard's server-sent events: a frame after each reading of the
 * cluster, cut to the pages this client shows. A slow client skips frames
 * rather than queueing them. Returns a function that ends the stream; the
 * stream also ends itself when the client goes.
 */
export function openEventStream(response: ServerResponse, options: StreamOptions): () => void {
  const { feed, query, logger } = options;
  const focus = query.focus;
  const since = query.since ?? Date.now() - options.historyMs;
  let sentDecisions = new Set<string>();
  let first = true;
  let building = false;
  let ended = false;

  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies such as nginx would otherwise hold the events back.
    'x-accel-buffering': 'no',
  });
  response.write(`retry: ${RETRY_MS}\n\n`);

  const send = (event: string, data: unknown) => {
    if (!ended) response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };

  const buildFrame = async (sample: Sample): Promise<Frame> => {
    const { cluster } = sample;
    const pools = poolPage(cluster.pools, query);
    const deadTotal = cluster.queues.reduce((sum, queue) => sum + (inFocus(focus, queue.queue) ? queue.dead : 0), 0);
    const [lastDecisions, dead] = await Promise.all([
      feed.lastDecisionOf(pools.items.map((pool) => pool.id)),
      // Reading dead letters can be costly (RabbitMQ reads a whole dead-letter queue): not when there are none to show.
      query.deadOffset < deadTotal ? feed.deadLetters(focus, query.deadOffset, query.deadLimit) : [],
    ]);
    const poolQueue = new Map(cluster.pools.map((pool) => [pool.id, pool.queue]));
    const decisions = unseenDecisions(cluster.decisions, sentDecisions, since, focus, poolQueue);
    sentDecisions = new Set(cluster.decisions.map(decisionKey));
    const frame: Frame = {
      at: cluster.at,
      backend: cluster.backend,
      focus: focus ?? null,
      totals: sample.totals,
      point: chartPointOf(cluster, focus ?? ''),
      queues: queuePage(cluster.queues, query),
      pools: { ...pools, items: pools.items.map((pool) => poolRow(pool, lastDecisions.get(pool.id) ?? null)) },
      workers: workerPage(cluster.pools, query),
      dead: {
        total: deadTotal,
        offset: query.deadOffset,
        limit: query.deadLimit,
        items: dead,
      },
      failures: sample.failures.filter((failure) => inFocus(focus, failure.queue)).slice(0, FAILURES_SHOWN),
      decisions,
    };
    if (first) frame.history = feed.history(focus ?? '');
    return frame;
  };

  const problem = (error: unknown) => {
    if (!(error instanceof GafferError)) logger.error({ err: error }, 'the dashboard could not read the cluster');
    send('problem', {
      code: error instanceof GafferError ? error.code : 'internal_error',
      message: error instanceof GafferError ? error.message : 'the server could not read the cluster; its log says why',
    });
  };

  const unsubscribe = feed.subscribe({
    scope: focus ?? '',
    onSample(sample) {
      // Still writing the last frame, or the client reads slower than we send: skip this one.
      if (ended || building || response.writableNeedDrain) return;
      building = true;
      buildFrame(sample)
        .then((frame) => {
          send('cluster', frame);
          first = false;
        })
        .catch(problem)
        .finally(() => {
          building = false;
        });
    },
    onProblem: problem,
  });

  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    response.end();
  };
  response.on('close', end);
  response.on('error', end);
  return end;
}
