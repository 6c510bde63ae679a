import { defineConfig } from 'vitest/config';
import type { TestProjectConfiguration } from 'vitest/config';

// `unit` needs nothing but Node. `postgres` runs every controller test again on a real PostgreSQL, and `integration`
// (files named *.docker.test.ts, *.nginx.test.ts and *.e2e.test.ts) needs the Docker engine, nginx and git: `./platform test` starts
// what they need and sets the variables below, so a run there never skips them. A bare `npx vitest run` on a
// developer's machine without those services runs `unit` only.
const integration = ['**/*.docker.test.ts', '**/*.nginx.test.ts', '**/*.e2e.test.ts'];
// `cluster` (files named *.cluster.test.ts) runs on a 3-node Docker Swarm on this host, which its global setup brings
// up and removes (scripts/cluster.sh); it needs root, and runs when DEIS_TEST_CLUSTER=1 (`./platform test` sets it).
const cluster = ['**/*.cluster.test.ts'];
const postgresUrl = process.env.DEIS_TEST_POSTGRES_URL;

const projects: TestProjectConfiguration[] = [
  {
    test: {
      name: 'unit',
      include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: [...integration, ...cluster, '**/node_modules/**'],
      testTimeout: 20_000,
    },
  },
];
if (postgresUrl) {
  projects.push({
    test: {
      name: 'postgres',
      include: ['packages/controller/src/**/*.test.ts'],
      exclude: [...integration, ...cluster, '**/node_modules/**'],
      env: { DEIS_TEST_DATABASE_URL: postgresUrl },
      testTimeout: 30_000,
    },
  });
}
if (process.env.DEIS_TEST_DOCKER === '1') {
  projects.push({
    test: {
      name: 'integration',
      include: integration.map((pattern) => `{packages/*/src,test}/${pattern}`),
      exclude: ['**/node_modules/**'],
      testTimeout: 180_000,
      hookTimeout: 300_000,
      // One Docker engine, one set of ports: integration files run one at a time, and after the other projects, so
      // that their deadlines (deploy timeouts, polls through the router) are not measured on a machine busy with them.
      fileParallelism: false,
      sequence: { groupOrder: 1 },
    },
  });
}
if (process.env.DEIS_TEST_CLUSTER === '1') {
  projects.push({
    test: {
      name: 'cluster',
      include: cluster.map((pattern) => `{packages/*/src,test}/${pattern}`),
      exclude: ['**/node_modules/**'],
      globalSetup: ['test/cluster/global-setup.ts'],
      env: { DEIS_TEST_CLUSTER_SOCKETS: [1, 2, 3].map((n) => `/run/deis-cluster/node${n}.sock`).join(',') },
      testTimeout: 120_000,
      hookTimeout: 300_000,
      fileParallelism: false,
      // After the integration project: the cluster's engines share the host's two cores with everything else.
      sequence: { groupOrder: 2 },
    },
  });
}

export default defineConfig({ test: { projects, allowOnly: false } });
