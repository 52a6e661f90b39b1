// Group write-diffusion (docs/background.md §5): a group message is acknowledged once
// its job is durably queued in storage; workers in every logic instance then
// append it to each member's inbox, asynchronously. Exactly once per member,
// even when a worker dies mid-job: appends are idempotent (keyed by sender and
// message id), a worker holds its jobs under an etcd lease it keeps renewing,
// and when it dies the lease lapses, the claim vanishes and another worker
// takes the job over from the last reported progress.
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Logger } from '../shared/log.ts';
import type { Caller, ClaimedJob, StorageClient } from './storage-client.ts';

export interface DiffusionOptions {
  /** This worker's name in claims (an instance id). */
  readonly owner: string;
  /** Claims lapse this long after the worker's last renewal. */
  readonly claimTtlSeconds: number;
  /** Jobs claimed at once. */
  readonly batch: number;
  /** Wait between polls of an empty queue. */
  readonly idleMs: number;
  /** Appends per second per worker, to smooth the write load on storage; 0: no limit. */
  readonly appendsPerSecond: number;
  /** Report progress every this many members. */
  readonly progressEvery: number;
}

export const defaultDiffusionOptions: Omit<DiffusionOptions, 'owner'> = {
  claimTtlSeconds: 5,
  batch: 4,
  idleMs: 200,
  appendsPerSecond: 0,
  progressEvery: 16,
};

export interface DiffusionDeps {
  readonly storage: StorageClient;
  /** A service ticket for the queue's APIs. */
  readonly serviceTicket: () => string;
  /** A short-lived ticket of the sender: storage lets a sender's ticket put the sender's message into a box. */
  readonly senderTicket: (user: string) => string;
  readonly log: Logger;
  readonly registry: Registry;
}

export interface RoundResult {
  readonly claimed: number;
  readonly completed: number;
  readonly appended: number;
  readonly duplicates: number;
}

export interface DiffusionWorker {
  /** One round: claim a batch, diffuse it, complete what finished, release the rest. */
  runOnce(): Promise<RoundResult>;
  start(): void;
  /** Finishes the current append, releases the claims and stops. */
  stop(): Promise<void>;
}

export function createDiffusionWorker(
  deps: DiffusionDeps,
  opts: DiffusionOptions,
): DiffusionWorker {
  const registers = [deps.registry];
  const appends = new Counter({
    name: 'yard_im_diffusion_appends_total',
    help: 'Appends of queued messages to members’ boxes, by box and result (appended, duplicate: a worker before this one had done it).',
    labelNames: ['box', 'result'],
    registers,
  });
  const jobs = new Counter({
    name: 'yard_im_diffusion_jobs_total',
    help: 'Diffusion jobs by result: completed, or left (storage failed or the claim was lost) for a later round.',
    labelNames: ['result'],
    registers,
  });
  const stopper = new AbortController();
  let loop: Promise<void> | undefined;

  const pause = (ms: number): Promise<void> =>
    ms <= 0
      ? Promise.resolve()
      : sleep(ms, undefined, { signal: stopper.signal }).catch(() => undefined);

  async function diffuse(
    job: ClaimedJob,
    lease: string,
    svc: Caller,
    lost: () => boolean,
  ): Promise<{ done: boolean; appended: number; duplicates: number }> {
    const business = job.box === 'inbox' ? 'groupchat' : 'moments';
    const sender: Caller = {
      ticket: deps.senderTicket(job.message.from),
      user: job.message.from,
      business,
    };
    let appended = 0;
    let duplicates = 0;
    for (let i = job.done; i < job.members.length; i++) {
      if (stopper.signal.aborted || lost()) return { done: false, appended, duplicates };
      const member = job.members[i] ?? '';
      const r = await deps.storage.append(sender, job.box, member, job.message);
      if (r.duplicate) duplicates++;
      else appended++;
      appends.inc({ box: job.box, result: r.duplicate ? 'duplicate' : 'appended' });
      if ((i + 1) % opts.progressEvery === 0 && i + 1 < job.members.length) {
        const p = await deps.storage.jobProgress(svc, job.id, lease, i + 1);
        if (!p.held) return { done: false, appended, duplicates };
      }
      if (opts.appendsPerSecond > 0) await pause(1000 / opts.appendsPerSecond);
    }
    return { done: true, appended, duplicates };
  }

  async function runOnce(): Promise<RoundResult> {
    const svc: Caller = { ticket: deps.serviceTicket(), user: opts.owner, business: 'groupchat' };
    const { lease, jobs: claimed } = await deps.storage.claimJobs(
      svc,
      opts.owner,
      opts.batch,
      opts.claimTtlSeconds,
    );
    const result = { claimed: claimed.length, completed: 0, appended: 0, duplicates: 0 };
    if (claimed.length === 0) return result;
    let lost = false;
    const renew = setInterval(
      () => {
        deps.storage.renewClaims(svc, lease).then(
          (r) => {
            if (r.ttl <= 0) lost = true;
          },
          (err: unknown) => deps.log.warn('could not renew diffusion claims', { lease, err }),
        );
      },
      (opts.claimTtlSeconds * 1000) / 3,
    );
    try {
      for (const job of claimed) {
        if (stopper.signal.aborted || lost) break;
        const r = await diffuse(job, lease, svc, () => lost);
        result.appended += r.appended;
        result.duplicates += r.duplicates;
        if (r.done && (await deps.storage.completeJob(svc, job.id, lease)).completed) {
          result.completed++;
          jobs.inc({ result: 'completed' });
        } else {
          jobs.inc({ result: 'left' });
        }
      }
    } finally {
      clearInterval(renew);
      // what this round did not finish is free again at once, not after the lease runs out
      await deps.storage.releaseClaims(svc, lease).catch((err: unknown) => {
        deps.log.warn('could not release diffusion claims; they lapse on their own', {
          lease,
          err,
        });
      });
    }
    return result;
  }

  return {
    runOnce,
    start() {
      if (loop) return;
      loop = (async () => {
        let failures = 0;
        while (!stopper.signal.aborted) {
          try {
            const r = await runOnce();
            failures = 0;
            if (r.claimed === 0) await pause(opts.idleMs);
          } catch (err) {
            failures++;
            deps.log.warn('diffusion round failed', { err, failures });
            await pause(Math.min(5000, opts.idleMs * 2 ** Math.min(failures, 5)));
          }
        }
      })();
    },
    async stop() {
      stopper.abort();
      await loop;
    },
  };
}
