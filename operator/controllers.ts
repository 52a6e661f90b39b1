// The one list of Yard's controllers: what `operator/main.ts` runs, and what
// anything else that runs "the operator" (the demo, tests) adds to its
// manager. A controller added here runs everywhere at once.
import type { Controller, Manager } from '../runtime/index.ts';
import { addCampusController } from './campus/reconcile.ts';
import type { CampusControllerOptions } from './campus/reconcile.ts';
import { addIMServiceController } from './imservice/reconcile.ts';
import type { IMServiceControllerOptions } from './imservice/reconcile.ts';
import { addOfflineJobController, addOfflineQueueController } from './offline/reconcile.ts';
import type { OfflineControllerOptions } from './offline/reconcile.ts';

/** Options per controller; each defaults to what production runs. */
export interface ControllerOptions {
  readonly campus?: CampusControllerOptions;
  readonly imservice?: IMServiceControllerOptions;
  readonly offlineQueue?: OfflineControllerOptions;
  readonly offlineJob?: OfflineControllerOptions;
}

/** Adds every Yard controller to `mgr`: campus, imservice, offline queue, offline job. */
export function addControllers(mgr: Manager, opts: ControllerOptions = {}): Controller[] {
  return [
    addCampusController(mgr, opts.campus),
    addIMServiceController(mgr, opts.imservice),
    addOfflineQueueController(mgr, opts.offlineQueue),
    addOfflineJobController(mgr, opts.offlineJob),
  ];
}
