// The diffusion queue: a group message's job, enqueued once, claimed by a
// worker under an etcd lease (when the worker dies, etcd deletes the claim
// with the lease and the job is free again), its progress reported and its
// completion accepted only while the claim is still that worker's.
import { fingerprint } from '../shared/im.ts';
import type { Box, Message } from '../shared/im.ts';
import { absent, present } from './etcd.ts';
import type { Compare } from './etcd.ts';
import { StoreError } from './store-error.ts';
import { get, parse, put, rangeAt } from './txn.ts';
import type { StoreContext } from './txn.ts';

export interface Job {
  readonly id: string;
  readonly box: Box;
  readonly message: Message;
  readonly members: readonly string[];
}

export interface ClaimedJob extends Job {
  /** Members already appended, as last reported: a worker taking over may skip them. */
  readonly done: number;
}

export function queueStore({ etcd, k }: StoreContext) {
  const jobFingerprint = (j: Job): string =>
    JSON.stringify([j.box, fingerprint(j.message), j.members]);

  async function enqueue(job: Job): Promise<{ duplicate: boolean }> {
    const key = k.job(job.id);
    const t = await etcd.txn([absent(key)], [put(key, job)], [get(key)]);
    if (t.succeeded) return { duplicate: false };
    const existing = parse<Job>(rangeAt(t, 0).kvs[0]);
    if (existing && jobFingerprint(existing) === jobFingerprint(job)) return { duplicate: true };
    throw new StoreError('conflict', `job ${job.id} already exists with other content`);
  }

  /**
   * Claims up to `max` unclaimed jobs under a fresh lease. A claim is a key
   * attached to the lease: when its worker stops renewing (it died), etcd
   * deletes the claim and the job is free for another worker.
   */
  async function claim(
    owner: string,
    max: number,
    ttlSeconds: number,
  ): Promise<{ lease: string; jobs: ClaimedJob[] }> {
    const [jobs, claims] = await Promise.all([
      etcd.range({
        key: k.jobs,
        prefix: true,
        keysOnly: true,
        limit: 256,
        sortTarget: 'CREATE',
        sortOrder: 'ASCEND',
      }),
      etcd.range({ key: k.claims, prefix: true, keysOnly: true }),
    ]);
    const claimed = new Set(claims.kvs.map((kv) => kv.key.slice(k.claims.length)));
    const free = jobs.kvs.map((kv) => kv.key.slice(k.jobs.length)).filter((id) => !claimed.has(id));
    if (free.length === 0) return { lease: '', jobs: [] };
    const lease = await etcd.leaseGrant(ttlSeconds);
    const out: ClaimedJob[] = [];
    for (const id of free) {
      if (out.length >= max) break;
      const t = await etcd.txn(
        [absent(k.claim(id)), present(k.job(id))],
        [put(k.claim(id), { owner, lease }, lease), get(k.job(id)), get(k.progress(id))],
      );
      const job = t.succeeded ? parse<Job>(rangeAt(t, 1).kvs[0]) : undefined;
      if (job) out.push({ ...job, done: Number(rangeAt(t, 2).kvs[0]?.value ?? '0') });
    }
    if (out.length === 0) {
      await etcd.leaseRevoke(lease);
      return { lease: '', jobs: [] };
    }
    return { lease, jobs: out };
  }

  const holds = (id: string, lease: string): Compare => ({
    key: k.claim(id),
    target: 'LEASE',
    result: 'EQUAL',
    operand: lease,
  });

  async function progress(id: string, lease: string, done: number): Promise<{ held: boolean }> {
    const t = await etcd.txn([holds(id, lease)], [put(k.progress(id), String(done))]);
    return { held: t.succeeded };
  }

  /** Removes a finished job, only while the claim is still this worker's. */
  async function complete(id: string, lease: string): Promise<{ completed: boolean }> {
    const t = await etcd.txn(
      [holds(id, lease)],
      [
        { deleteRange: { key: k.job(id) } },
        { deleteRange: { key: k.progress(id) } },
        { deleteRange: { key: k.claim(id) } },
      ],
    );
    return { completed: t.succeeded };
  }

  async function listJobs(): Promise<
    { id: string; members: number; done: number; claimedBy: string | undefined }[]
  > {
    const [jobs, claims, progressed] = await Promise.all([
      etcd.range({ key: k.jobs, prefix: true, limit: 1000 }),
      etcd.range({ key: k.claims, prefix: true }),
      etcd.range({ key: k.progress(''), prefix: true }),
    ]);
    const owners = new Map(
      claims.kvs.map((kv) => [kv.key.slice(k.claims.length), parse<{ owner: string }>(kv)?.owner]),
    );
    const done = new Map(
      progressed.kvs.map((kv) => [kv.key.slice(k.progress('').length), Number(kv.value)]),
    );
    return jobs.kvs.map((kv) => {
      const id = kv.key.slice(k.jobs.length);
      return {
        id,
        members: parse<Job>(kv)?.members.length ?? 0,
        done: done.get(id) ?? 0,
        claimedBy: owners.get(id),
      };
    });
  }

  return {
    enqueue,
    claim,
    renew: (lease: string) => etcd.leaseKeepAlive(lease),
    progress,
    complete,
    listJobs,
  };
}
