import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure code, no cluster, seconds) and `integration`
// (against one local control plane shared by the whole run).
export default defineConfig({
  test: {
    reporters: ['default', './e2e/harness/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**', '.yard/**'],
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ['node_modules/**', '.yard/**'],
          globalSetup: ['e2e/harness/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
          // Files run one at a time: they share cluster-scoped objects (the
          // Campus objects, the CRDs, the shield) and the control plane is the
          // bottleneck on 2 cores anyway. Tests within a file may still overlap.
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
