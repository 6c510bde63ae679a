import { defineConfig } from 'vitest/config';
import type { TestProjectConfiguration } from 'vitest/config';

// `unit` needs nothing but Node. `postgres` runs every controller test again on a real PostgreSQL, and `integration`
// (files named *.docker.test.ts, *.nginx.test.ts and *.e2e.test.ts) needs the Docker engine, nginx and git: `./platform test` starts
// what they need and sets the variables below, so a run there never skips them. A bare `npx vitest run` on a
// developer's machine without those services runs `unit` only.
const integration = ['**/*.docker.test.ts', '**/*.nginx.test.ts', '**/*.e2e.test.ts'];
const postgresUrl = process.env.DEIS_TEST_POSTGRES_URL;

const projects: TestProjectConfiguration[] = [
  {
    test: {
      name: 'unit',
      include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: [...integration, '**/node_modules/**'],
      testTimeout: 20_000,
    },
  },
];
if (postgresUrl) {
  projects.push({
    test: {
      name: 'postgres',
      include: ['packages/controller/src/**/*.test.ts'],
      exclude: [...integration, '**/node_modules/**'],
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

export default defineConfig({ test: { projects, allowOnly: false } });
