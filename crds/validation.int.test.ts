// The API against a real API server: bad objects are refused with a message
// that names the field, defaults are applied, immutable fields stay put, and
// kubectl sees the category, the columns and the descriptions.
//
// Cluster-scoped objects that are not refused are created with unique names
// and deleted at once, and Campus objects only with dry-run: other test files
// run controllers against the same cluster, and a stray Campus would change
// their sizing (N campuses).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiException, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, onTestFinished } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { findBinaries } from '../e2e/control-plane/binaries.ts';
import { testImage } from '../e2e/harness/builders.ts';
import {
  createNamespace,
  deleteNamespace,
  it,
  kubeConfig,
  clients,
  uniqueName,
} from '../e2e/harness/kube.ts';
import { done, notYet, waitFor } from '../e2e/harness/wait.ts';
import { yardApiVersion, yardResources } from './generated/types.ts';
import type {
  Campus,
  DrillRun,
  DrillSchedule,
  ImageDistribution,
  IMService,
  OfflineJob,
  OfflineQueue,
  YardKind,
} from './generated/types.ts';
import { installCrds } from './install.ts';

const run = promisify(execFile);
const testLabels = { 'yard.dev/test': 'true' };

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
  status?: unknown;
};

function resourceOf(kind: string): (typeof yardResources)[number] {
  const r = yardResources.find((x) => x.kind === kind);
  if (!r) throw new Error(`no Yard kind ${kind}`);
  return r;
}

/** Typed create/get/replace/delete of Yard objects through CustomObjectsApi. */
class Yard {
  readonly api: CustomObjectsApi;
  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async create<T extends Obj>(body: T, namespace: string, dryRun = false): Promise<T> {
    const r = resourceOf(body.kind);
    const common = { group: r.group, version: r.version, plural: r.plural, body };
    const dry = dryRun ? { dryRun: 'All' } : {};
    return (await (r.namespaced
      ? this.api.createNamespacedCustomObject({ ...common, namespace, ...dry })
      : this.api.createClusterCustomObject({ ...common, ...dry }))) as T;
  }

  async get<T extends Obj>(kind: string, name: string, namespace: string): Promise<T> {
    const r = resourceOf(kind);
    const common = { group: r.group, version: r.version, plural: r.plural, name };
    return (await (r.namespaced
      ? this.api.getNamespacedCustomObject({ ...common, namespace })
      : this.api.getClusterCustomObject(common))) as T;
  }

  async replace<T extends Obj>(body: T, namespace: string): Promise<T> {
    const r = resourceOf(body.kind);
    const common = {
      group: r.group,
      version: r.version,
      plural: r.plural,
      name: body.metadata.name ?? '',
      body,
    };
    return (await (r.namespaced
      ? this.api.replaceNamespacedCustomObject({ ...common, namespace })
      : this.api.replaceClusterCustomObject(common))) as T;
  }

  async replaceStatus<T extends Obj>(body: T): Promise<T> {
    const r = resourceOf(body.kind);
    return (await this.api.replaceClusterCustomObjectStatus({
      group: r.group,
      version: r.version,
      plural: r.plural,
      name: body.metadata.name ?? '',
      body,
    })) as T;
  }

  async delete(kind: string, name: string, namespace: string): Promise<void> {
    const r = resourceOf(kind);
    const common = { group: r.group, version: r.version, plural: r.plural, name };
    try {
      await (r.namespaced
        ? this.api.deleteNamespacedCustomObject({ ...common, namespace })
        : this.api.deleteClusterCustomObject(common));
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
  }
}

interface Cause {
  readonly field?: string;
  readonly message?: string;
}

/** The metav1.Status causes of a refused request; fails if it was accepted. */
async function refusal(attempt: () => Promise<unknown>): Promise<Cause[]> {
  try {
    await attempt();
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const e = err as ApiException<unknown>;
    expect(e.code, String(e.body)).toBe(422);
    const status = JSON.parse(String(e.body)) as { details?: { causes?: Cause[] } };
    return status.details?.causes ?? [];
  }
  throw new Error('the API server accepted the object');
}

/** Exactly the expected field is refused, with a message containing `fragment`. */
function expectOnly(causes: readonly Cause[], field: string, fragment: string): void {
  const real = causes.filter((c) => c.field !== '<nil>');
  expect(real, JSON.stringify(causes)).not.toHaveLength(0);
  for (const c of real) expect(c.field, JSON.stringify(causes)).toBe(field);
  expect(real.map((c) => c.message).join('\n')).toContain(fragment);
}

// ---- valid objects, the base every invalid case changes one thing of ----

const template = { spec: { containers: [{ name: 'main', image: testImage }] } };

const valid = {
  Campus: (name: string): Campus => ({
    apiVersion: yardApiVersion,
    kind: 'Campus',
    metadata: { name, labels: testLabels },
    spec: { region: 'test' },
  }),
  IMService: (name: string): IMService => ({
    apiVersion: yardApiVersion,
    kind: 'IMService',
    metadata: { name, labels: testLabels },
    spec: { tier: 'logic', businessPriority: 'message', capacity: 3, template },
  }),
  OfflineQueue: (name: string): OfflineQueue => ({
    apiVersion: yardApiVersion,
    kind: 'OfflineQueue',
    metadata: { name, labels: testLabels },
    spec: { guaranteed: { cpu: '1', memory: '1Gi' }, max: { cpu: 4, memory: '8Gi' } },
  }),
  OfflineJob: (name: string): OfflineJob => ({
    apiVersion: yardApiVersion,
    kind: 'OfflineJob',
    metadata: { name, labels: testLabels },
    spec: {
      queue: 'batch',
      parallelism: 4,
      completions: 8,
      template: { spec: { ...template.spec, restartPolicy: 'Never' } },
    },
  }),
  ImageDistribution: (name: string): ImageDistribution => ({
    apiVersion: yardApiVersion,
    kind: 'ImageDistribution',
    metadata: { name, labels: testLabels },
    spec: { image: 'registry.local/yard/im-logic:1.0.0' },
  }),
  DrillSchedule: (name: string): DrillSchedule => ({
    apiVersion: yardApiVersion,
    kind: 'DrillSchedule',
    metadata: { name, labels: testLabels },
    // suspended: a drill controller in another test file must not act on it
    spec: { schedule: '0 3 * * *', campuses: ['campus-a', 'campus-b'], suspend: true },
  }),
  DrillRun: (name: string): DrillRun => ({
    apiVersion: yardApiVersion,
    kind: 'DrillRun',
    metadata: { name, labels: testLabels },
    spec: { campus: `no-such-campus-${name}` },
  }),
} satisfies Record<YardKind, (name: string) => Obj>;

type Patch = { readonly [key: string]: unknown };

/** A JSON merge patch (RFC 7386): objects merge, null deletes, anything else replaces. */
function merge(base: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof base === 'object' && base !== null && !Array.isArray(base)
      ? { ...(base as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

interface Invalid {
  readonly kind: YardKind;
  readonly what: string;
  readonly patch: Patch;
  readonly field: string;
  readonly message: string;
  readonly name?: string;
}

const longDigest = `sha256:${'0a'.repeat(32)}`;

const invalid: readonly Invalid[] = [
  // Campus
  {
    kind: 'Campus',
    what: 'a name that is not a DNS label',
    name: 'campus.a',
    patch: {},
    field: 'metadata.name',
    message: 'metadata.name must be a DNS label',
  },
  {
    kind: 'Campus',
    what: 'an empty node selector',
    patch: { spec: { nodeSelector: {} } },
    field: 'spec.nodeSelector',
    message: 'spec.nodeSelector must not be empty',
  },
  {
    kind: 'Campus',
    what: 'a node selector key that is not a label key',
    patch: { spec: { nodeSelector: { 'a/b/c': 'x' } } },
    field: 'spec.nodeSelector',
    message: 'spec.nodeSelector keys must be label keys',
  },
  {
    kind: 'Campus',
    what: 'an online ceiling of 0%',
    patch: { spec: { onlineCeilingPercent: 0 } },
    field: 'spec.onlineCeilingPercent',
    message: 'should be greater than or equal to 1',
  },
  {
    kind: 'Campus',
    what: 'a shield without an expiry',
    patch: { spec: { shield: { reason: 'maintenance' } } },
    field: 'spec.shield.until',
    message: 'Required value',
  },
  {
    kind: 'Campus',
    what: 'a shield with a blank reason',
    patch: { spec: { shield: { reason: '   ', until: '2030-01-01T00:00:00Z' } } },
    field: 'spec.shield.reason',
    message: 'spec.shield.reason must say why',
  },
  {
    kind: 'Campus',
    what: 'a shield expiry that is not a date-time',
    patch: { spec: { shield: { reason: 'maintenance', until: 'tomorrow' } } },
    field: 'spec.shield.until',
    message: 'date-time',
  },
  // IMService
  {
    kind: 'IMService',
    what: 'an unknown tier',
    patch: { spec: { tier: 'web' } },
    field: 'spec.tier',
    message: 'supported values: "access", "logic", "storage"',
  },
  {
    kind: 'IMService',
    what: 'no business priority',
    patch: { spec: { businessPriority: null } },
    field: 'spec.businessPriority',
    message: 'Required value',
  },
  {
    kind: 'IMService',
    what: 'a capacity of 0',
    patch: { spec: { capacity: 0 } },
    field: 'spec.capacity',
    message: 'should be greater than or equal to 1',
  },
  {
    kind: 'IMService',
    what: 'no pod template',
    patch: { spec: { template: null } },
    field: 'spec.template',
    message: 'Required value',
  },
  {
    kind: 'IMService',
    what: 'a pod template without containers',
    patch: { spec: { template: { spec: { containers: [] } } } },
    field: 'spec.template.spec.containers',
    message: 'should have at least 1 items',
  },
  {
    kind: 'IMService',
    what: 'a container without an image',
    patch: { spec: { template: { spec: { containers: [{ name: 'main' }] } } } },
    field: 'spec.template.spec.containers[0].image',
    message: 'Required value',
  },
  {
    kind: 'IMService',
    what: 'a scheduler set in the pod template',
    patch: { spec: { template: { spec: { schedulerName: 'other' } } } },
    field: 'spec.template.spec.schedulerName',
    message: 'must not be set: set spec.schedulerName',
  },
  {
    kind: 'IMService',
    what: 'a restart policy a Deployment does not allow',
    patch: { spec: { template: { spec: { restartPolicy: 'Never' } } } },
    field: 'spec.template.spec.restartPolicy',
    message: 'supported values: "Always"',
  },
  {
    kind: 'IMService',
    what: 'a campus listed twice',
    patch: { spec: { campuses: ['campus-a', 'campus-b', 'campus-a'] } },
    field: 'spec.campuses[2]',
    message: 'Duplicate value',
  },
  {
    kind: 'IMService',
    what: 'a rollout order naming a campus the service does not run in',
    patch: {
      spec: { campuses: ['campus-a', 'campus-b'], rollout: { campusOrder: ['campus-c'] } },
    },
    field: 'spec.rollout.campusOrder',
    message: 'spec.rollout.campusOrder may only name campuses listed in spec.campuses',
  },
  {
    kind: 'IMService',
    what: 'a max unavailable of 0%',
    patch: { spec: { rollout: { maxUnavailablePerCampus: '0%' } } },
    field: 'spec.rollout.maxUnavailablePerCampus',
    message: 'percentage from 1% to 100%',
  },
  {
    kind: 'IMService',
    what: 'a pause that is not a duration',
    patch: { spec: { rollout: { pauseBetweenCampuses: 'soon' } } },
    field: 'spec.rollout.pauseBetweenCampuses',
    message: 'spec.rollout.pauseBetweenCampuses must be a duration such as 30s',
  },
  {
    kind: 'IMService',
    what: 'a name that cannot name a Service',
    name: '1-im-logic',
    patch: {},
    field: 'metadata.name',
    message: 'metadata.name must start with a lower-case letter',
  },
  // OfflineQueue
  {
    kind: 'OfflineQueue',
    what: 'more CPU guaranteed than the maximum',
    patch: { spec: { guaranteed: { cpu: '8' }, max: { cpu: '4' } } },
    field: 'spec.guaranteed.cpu',
    message: 'spec.guaranteed.cpu must not exceed spec.max.cpu',
  },
  {
    kind: 'OfflineQueue',
    what: 'more memory guaranteed than the maximum (different suffixes)',
    patch: { spec: { guaranteed: { memory: '2Gi' }, max: { memory: '1000Mi' } } },
    field: 'spec.guaranteed.memory',
    message: 'spec.guaranteed.memory must not exceed spec.max.memory',
  },
  {
    kind: 'OfflineQueue',
    what: 'a memory maximum that is not a quantity',
    patch: { spec: { max: { memory: 'lots' } } },
    field: 'spec.max.memory',
    message: 'spec.max.memory must be a non-negative quantity',
  },
  {
    kind: 'OfflineQueue',
    what: 'a negative guarantee',
    patch: { spec: { guaranteed: { cpu: '-1' } } },
    field: 'spec.guaranteed.cpu',
    message: 'spec.guaranteed.cpu must be a non-negative quantity',
  },
  {
    kind: 'OfflineQueue',
    what: 'a weight of 0',
    patch: { spec: { weight: 0 } },
    field: 'spec.weight',
    message: 'should be greater than or equal to 1',
  },
  {
    kind: 'OfflineQueue',
    what: 'itself as parent',
    name: 'loop-queue',
    patch: { spec: { parent: 'loop-queue' } },
    field: 'spec.parent',
    message: 'spec.parent must not name the queue itself',
  },
  // OfflineJob
  {
    kind: 'OfflineJob',
    what: 'no queue',
    patch: { spec: { queue: null } },
    field: 'spec.queue',
    message: 'Required value',
  },
  {
    kind: 'OfflineJob',
    what: 'a gang larger than its parallelism',
    patch: { spec: { parallelism: 2, minAvailable: 3 } },
    field: 'spec.minAvailable',
    message: 'spec.minAvailable must not exceed spec.parallelism',
  },
  {
    kind: 'OfflineJob',
    what: 'a gang larger than its completions',
    patch: { spec: { parallelism: 8, completions: 2, minAvailable: 4 } },
    field: 'spec.minAvailable',
    message: 'spec.minAvailable must not exceed spec.completions',
  },
  {
    kind: 'OfflineJob',
    what: 'a restart policy a job does not allow',
    patch: { spec: { template: { spec: { restartPolicy: 'Always' } } } },
    field: 'spec.template.spec.restartPolicy',
    message: 'supported values: "Never", "OnFailure"',
  },
  {
    kind: 'OfflineJob',
    what: 'a zero run duration',
    patch: { spec: { runDuration: '0s' } },
    field: 'spec.runDuration',
    message: 'spec.runDuration must be a duration such as 30s, 5m or 1h30m, greater than 0s',
  },
  {
    kind: 'OfflineJob',
    what: 'a priority beyond 1000',
    patch: { spec: { priority: 5000 } },
    field: 'spec.priority',
    message: 'should be less than or equal to 1000',
  },
  {
    kind: 'OfflineJob',
    what: 'a negative back-off limit',
    patch: { spec: { backoffLimit: -1 } },
    field: 'spec.backoffLimit',
    message: 'should be greater than or equal to 0',
  },
  // ImageDistribution
  {
    kind: 'ImageDistribution',
    what: 'an image reference with spaces',
    patch: { spec: { image: 'Not An Image' } },
    field: 'spec.image',
    message: 'spec.image must be an image reference',
  },
  {
    kind: 'ImageDistribution',
    what: 'a blob digest that is not sha256',
    patch: { spec: { blobs: [{ digest: 'md5:abc', size: 10 }] } },
    field: 'spec.blobs[0].digest',
    message: 'must be "sha256:" followed by 64 lower-case hex digits',
  },
  {
    kind: 'ImageDistribution',
    what: 'a blob without its size',
    patch: { spec: { blobs: [{ digest: longDigest }] } },
    field: 'spec.blobs[0].size',
    message: 'Required value',
  },
  {
    kind: 'ImageDistribution',
    what: 'pieces of 1 KiB',
    patch: { spec: { pieceSize: 1024 } },
    field: 'spec.pieceSize',
    message: 'should be greater than or equal to 65536',
  },
  {
    kind: 'ImageDistribution',
    what: 'an ftp origin',
    patch: { spec: { origin: 'ftp://registry.local' } },
    field: 'spec.origin',
    message: 'spec.origin must be an absolute http:// or https:// URL',
  },
  {
    kind: 'ImageDistribution',
    what: 'an upload limit that is not a quantity',
    patch: { spec: { limits: { uploadBytesPerSecond: 'fast' } } },
    field: 'spec.limits.uploadBytesPerSecond',
    message: 'must be a non-negative quantity',
  },
  // DrillSchedule
  {
    kind: 'DrillSchedule',
    what: 'a schedule in words',
    patch: { spec: { schedule: 'every day at 3' } },
    field: 'spec.schedule',
    message: 'spec.schedule must be five cron fields',
  },
  {
    kind: 'DrillSchedule',
    what: 'a schedule of four cron fields',
    patch: { spec: { schedule: '0 3 * *' } },
    field: 'spec.schedule',
    message: 'spec.schedule must be five cron fields',
  },
  {
    kind: 'DrillSchedule',
    what: 'a time zone with a space',
    patch: { spec: { timeZone: 'Asia Shanghai' } },
    field: 'spec.timeZone',
    message: 'spec.timeZone must be an IANA time zone name',
  },
  {
    kind: 'DrillSchedule',
    what: 'no campuses to rotate over',
    patch: { spec: { campuses: [] } },
    field: 'spec.campuses',
    message: 'should have at least 1 items',
  },
  {
    kind: 'DrillSchedule',
    what: 'an unknown mode',
    patch: { spec: { mode: 'unplug' } },
    field: 'spec.mode',
    message: 'supported values: "shield", "blackhole"',
  },
  {
    kind: 'DrillSchedule',
    what: 'a zero block',
    patch: { spec: { durations: { block: '0s' } } },
    field: 'spec.durations.block',
    message: 'spec.durations.block must be a duration such as 30s, 5m or 1h30m, greater than 0s',
  },
  {
    kind: 'DrillSchedule',
    what: 'a baseline in words',
    patch: { spec: { durations: { baseline: '5 minutes' } } },
    field: 'spec.durations.baseline',
    message: 'spec.durations.baseline must be a duration',
  },
  {
    kind: 'DrillSchedule',
    what: 'a failure rate above 1',
    patch: { spec: { abort: { maxFailureRate: '1.5' } } },
    field: 'spec.abort.maxFailureRate',
    message: 'spec.abort.maxFailureRate must be a decimal fraction from "0" to "1"',
  },
  {
    kind: 'DrillSchedule',
    what: 'a webhook that is not a URL',
    patch: { spec: { report: { webhookURL: 'chat room 5' } } },
    field: 'spec.report.webhookURL',
    message: 'spec.report.webhookURL must be an absolute http:// or https:// URL',
  },
  {
    kind: 'DrillSchedule',
    what: 'a history of 101 runs',
    patch: { spec: { historyLimit: 101 } },
    field: 'spec.historyLimit',
    message: 'should be less than or equal to 100',
  },
  {
    kind: 'DrillSchedule',
    what: 'both a selector and a list of services',
    patch: {
      spec: {
        services: {
          selector: { matchLabels: { drill: 'daily' } },
          refs: [{ namespace: 'im', name: 'im-logic' }],
        },
      },
    },
    field: 'spec.services.refs',
    message: 'spec.services: set either selector or refs, not both',
  },
  {
    kind: 'DrillSchedule',
    what: 'namespaces without a selector',
    patch: { spec: { services: { namespaces: ['im'] } } },
    field: 'spec.services.namespaces',
    message: 'spec.services.namespaces only limits a selector',
  },
  {
    kind: 'DrillSchedule',
    what: 'an In selector without values',
    patch: {
      spec: {
        services: { selector: { matchExpressions: [{ key: 'drill', operator: 'In' }] } },
      },
    },
    field: 'spec.services.selector.matchExpressions[0].values',
    message: 'must be non-empty for In and NotIn',
  },
  // DrillRun
  {
    kind: 'DrillRun',
    what: 'no campus',
    patch: { spec: { campus: null } },
    field: 'spec.campus',
    message: 'Required value',
  },
  {
    kind: 'DrillRun',
    what: 'a recovery longer than a day',
    patch: { spec: { durations: { recovery: '25h' } } },
    field: 'spec.durations.recovery',
    message: 'at most 24h',
  },
  {
    kind: 'DrillRun',
    what: 'abort windows of no samples',
    patch: { spec: { abort: { minSamples: 0 } } },
    field: 'spec.abort.minSamples',
    message: 'should be greater than or equal to 1',
  },
  {
    kind: 'DrillRun',
    what: 'a campus that is not a DNS label',
    patch: { spec: { campus: 'Campus B' } },
    field: 'spec.campus',
    message: 'spec.campus must be a DNS label',
  },
];

let kc: KubeConfig;
let yard: Yard;
let tableNs: string;

beforeAll(async () => {
  kc = kubeConfig();
  yard = new Yard(kc);
  await installCrds(kc);
  tableNs = await createNamespace(clients(kc).core, uniqueName('crd-validation'));
});

afterAll(async () => {
  if (tableNs) await deleteNamespace(clients(kc).core, tableNs);
});

describe('installCrds', () => {
  it('is idempotent and safe to run several times at once', async () => {
    await Promise.all([installCrds(kc), installCrds(kc), installCrds(kc)]);
    await installCrds(kc);
  });
});

describe('invalid objects are refused with a message naming the field', () => {
  it('covers every kind with at least 30 cases', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(30);
    expect(new Set(invalid.map((c) => c.kind))).toEqual(new Set(yardResources.map((r) => r.kind)));
  });

  it.each(invalid)('$kind: $what', async ({ kind, patch, field, message, name }) => {
    const base = valid[kind](name ?? uniqueName(`bad-${kind}`));
    const body = merge(base, patch) as Obj;
    const causes = await refusal(async () => {
      const created = await yard.create(body, tableNs);
      // accepted by mistake: leave nothing behind before failing
      await yard.delete(kind, created.metadata.name ?? '', tableNs);
    });
    expectOnly(causes, field, message);
  });
});

describe('valid objects', () => {
  it('accepts every sample in crds/samples', async ({ ns }) => {
    const dir = new URL('./samples/', import.meta.url);
    const seen = new Set<string>();
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
      for (const doc of parseAllDocuments(await readFile(new URL(file, dir), 'utf8'))) {
        const body = doc.toJS() as Obj;
        // the backend's sample also holds Pods, RBAC and a Deployment: not ours to check here
        if (!body.apiVersion.startsWith('yard.dev/')) continue;
        seen.add(body.kind);
        const r = resourceOf(body.kind);
        // cluster-scoped samples (campus-a…) would collide with other tests: dry-run them
        const created = await yard.create(body, ns, !r.namespaced).catch((err: unknown) => {
          throw new Error(`${file}: ${body.kind} ${body.metadata.name ?? ''} refused`, {
            cause: err,
          });
        });
        expect(created.metadata.name).toBe(body.metadata.name);
      }
    }
    expect(seen).toEqual(new Set(yardResources.map((r) => r.kind)));
  });

  it('applies the defaults (read back from the API server)', async ({ ns }) => {
    const name = uniqueName('defaults');
    const cluster: [string, string][] = [];
    onTestFinished(async () => {
      await Promise.all(cluster.map(([kind, n]) => yard.delete(kind, n, ns)));
    });

    // Campus: dry-run only (see the top of the file); the response is what would be stored
    const campus = await yard.create(merge(valid.Campus(name), { spec: null }) as Campus, ns, true);
    expect(campus.spec).toEqual({});

    await yard.create(valid.IMService(name), ns);
    const ims = await yard.get<IMService>('IMService', name, ns);
    expect(ims.spec).toMatchObject({
      schedulerName: 'yard',
      rollout: {
        maxUnavailablePerCampus: '25%',
        pauseBetweenCampuses: '0s',
        imagePredistribution: true,
      },
    });

    const job = merge(valid.OfflineJob(name), {
      spec: { parallelism: null, completions: null },
    }) as OfflineJob;
    await yard.create(job, ns);
    expect((await yard.get<OfflineJob>('OfflineJob', name, ns)).spec).toMatchObject({
      parallelism: 1,
      completions: 1,
      priority: 0,
      backoffLimit: 6,
    });

    await yard.create(valid.ImageDistribution(name), ns);
    expect((await yard.get<ImageDistribution>('ImageDistribution', name, ns)).spec.pieceSize).toBe(
      4 * 1024 * 1024,
    );

    await yard.create(merge(valid.OfflineQueue(name), { spec: null }) as OfflineQueue, ns);
    cluster.push(['OfflineQueue', name]);
    expect((await yard.get<OfflineQueue>('OfflineQueue', name, ns)).spec).toEqual({ weight: 1 });

    const schedule = merge(valid.DrillSchedule(name), { spec: { suspend: null } });
    await yard.create(schedule as DrillSchedule, ns);
    cluster.push(['DrillSchedule', name]);
    const drillDefaults = {
      mode: 'shield',
      durations: { baseline: '5m', block: '10m', recovery: '5m' },
      abort: { maxFailureRate: '0.05', minSamples: 100, consecutiveWindows: 3, window: '10s' },
    };
    expect((await yard.get<DrillSchedule>('DrillSchedule', name, ns)).spec).toMatchObject({
      timeZone: 'UTC',
      historyLimit: 10,
      suspend: false,
      ...drillDefaults,
    });

    await yard.create(valid.DrillRun(name), ns);
    cluster.push(['DrillRun', name]);
    expect((await yard.get<DrillRun>('DrillRun', name, ns)).spec).toMatchObject(drillDefaults);
  });
});

describe('immutable fields stay put', () => {
  it('IMService.spec.tier (while capacity may change)', async ({ ns }) => {
    const created = await yard.create(valid.IMService('im-tier'), ns);
    const scaled = await yard.replace(merge(created, { spec: { capacity: 6 } }) as IMService, ns);
    expect(scaled.spec.capacity).toBe(6);
    const causes = await refusal(() =>
      yard.replace(merge(scaled, { spec: { tier: 'access' } }) as IMService, ns),
    );
    expectOnly(causes, 'spec.tier', 'spec.tier is immutable');
  });

  it('OfflineJob.spec.queue (while parallelism may change)', async ({ ns }) => {
    const created = await yard.create(valid.OfflineJob('etl'), ns);
    const wider = await yard.replace(
      merge(created, { spec: { parallelism: 8 } }) as OfflineJob,
      ns,
    );
    expect(wider.spec.parallelism).toBe(8);
    const causes = await refusal(() =>
      yard.replace(merge(wider, { spec: { queue: 'other' } }) as OfflineJob, ns),
    );
    expectOnly(causes, 'spec.queue', 'spec.queue is immutable');
  });

  it('ImageDistribution.spec.image', async ({ ns }) => {
    const created = await yard.create(valid.ImageDistribution('img'), ns);
    const causes = await refusal(() =>
      yard.replace(
        merge(created, { spec: { image: 'registry.local/yard/im-logic:2.0.0' } }) as Obj,
        ns,
      ),
    );
    expectOnly(causes, 'spec.image', 'spec.image is immutable');
  });

  it('OfflineQueue.spec.parent: not changed, added or removed', async () => {
    const top = uniqueName('top');
    const child = uniqueName('child');
    try {
      const t = await yard.create(valid.OfflineQueue(top), '');
      const c = await yard.create(
        merge(valid.OfflineQueue(child), { spec: { parent: top } }) as Obj,
        '',
      );
      for (const [obj, patch] of [
        [c, { spec: { parent: 'elsewhere' } }],
        [c, { spec: { parent: null } }],
        [t, { spec: { parent: 'elsewhere' } }],
      ] as const) {
        const causes = await refusal(() => yard.replace(merge(obj, patch) as Obj, ''));
        expectOnly(causes, 'spec.parent', 'spec.parent is immutable');
      }
      // the weight is not fixed
      const heavier = await yard.replace(merge(c, { spec: { weight: 5 } }) as OfflineQueue, '');
      expect(heavier.spec?.weight).toBe(5);
    } finally {
      await yard.delete('OfflineQueue', child, '');
      await yard.delete('OfflineQueue', top, '');
    }
  });

  it('DrillRun.spec as a whole, while its status may be written', async () => {
    const name = uniqueName('drill');
    try {
      const created = await yard.create(valid.DrillRun(name), '');
      const causes = await refusal(() =>
        yard.replace(merge(created, { spec: { mode: 'blackhole' } }) as Obj, ''),
      );
      expectOnly(causes, 'spec', 'spec is immutable: create another DrillRun');
      const withStatus = await yard.replaceStatus(
        merge(created, {
          status: { phase: 'Skipped', skipReason: 'no such campus', verdict: 'Inconclusive' },
        }) as DrillRun,
      );
      expect(withStatus.status?.phase).toBe('Skipped');
    } finally {
      await yard.delete('DrillRun', name, '');
    }
  });
});

describe('kubectl', () => {
  let kubectl: string;
  let cacheDir: string;
  beforeAll(async () => {
    const found = (await findBinaries()).kubectl;
    if (!found) throw new Error('kubectl of the pinned version not found');
    kubectl = found;
    // a discovery cache of our own: a stale shared one would not know the new kinds
    cacheDir = await mkdtemp(join(tmpdir(), 'yard-kubectl-cache-'));
  });
  afterAll(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });
  const k = async (...args: string[]): Promise<string> =>
    (await run(kubectl, ['--kubeconfig', inject('kubeconfig'), '--cache-dir', cacheDir, ...args]))
      .stdout;
  /** `kubectl explain` with its line wrapping undone. */
  const explain = async (field: string): Promise<string> =>
    (await k('explain', field)).replace(/\s+/g, ' ');

  it('`kubectl get yard` lists objects of every kind in the category', async ({ ns }) => {
    await yard.create(valid.IMService('im-cat'), ns);
    await yard.create(valid.OfflineJob('job-cat'), ns);
    await yard.create(valid.ImageDistribution('img-cat'), ns);
    const queue = uniqueName('queue-cat');
    await yard.create(valid.OfflineQueue(queue), '');
    try {
      const out = await k('get', 'yard', '-n', ns, '-o', 'name');
      expect(out.split('\n')).toEqual(
        expect.arrayContaining([
          'imservice.yard.dev/im-cat',
          'offlinejob.yard.dev/job-cat',
          'imagedistribution.yard.dev/img-cat',
          `offlinequeue.yard.dev/${queue}`,
        ]),
      );
    } finally {
      await yard.delete('OfflineQueue', queue, '');
    }
  });

  it('`kubectl get` shows the printer columns, by short name', async ({ ns }) => {
    await yard.create(valid.IMService('im-cols'), ns);
    await yard.create(valid.OfflineJob('job-cols'), ns);
    const ims = await k('get', 'ims', '-n', ns);
    expect(ims.split('\n')[0]?.split(/\s{2,}/)).toEqual([
      'NAME',
      'TIER',
      'PRIORITY',
      'CAPACITY',
      'READY',
      'AVAILABLE',
      'AGE',
    ]);
    expect(ims).toMatch(/im-cols\s+logic\s+message\s+3\s/);
    const jobs = await k('get', 'oj', '-n', ns);
    expect(jobs.split('\n')[0]?.split(/\s{2,}/)).toEqual([
      'NAME',
      'QUEUE',
      'PHASE',
      'COMPLETIONS',
      'PREEMPTIONS',
      'AGE',
    ]);
  });

  it('`kubectl explain` teaches the fields', async () => {
    // the API server publishes new OpenAPI a moment after a CRD is Established
    const capacity = await waitFor('kubectl explain imservice.spec.capacity', async () => {
      const out = await explain('imservice.spec.capacity');
      return out.includes('⌈capacity/(N−1)⌉') ? done(out) : notYet(out);
    });
    expect(capacity).toContain('losing any one campus leaves at least `capacity` serving');
    const selector = await waitFor('kubectl explain campus.spec.nodeSelector', async () => {
      const out = await explain('campus.spec.nodeSelector');
      return out.includes('topology.kubernetes.io/zone') ? done(out) : notYet(out);
    });
    expect(selector).toContain('Unset means `topology.kubernetes.io/zone: <metadata.name>`');
    const weight = await explain('offlinequeue.spec.weight');
    expect(weight).toContain('Defaults to 1.');
  });
});
