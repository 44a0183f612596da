/**
 * Postline's floors (docs/architecture.md draws them). A module may import its own folder, and
 * folders on its own floor or below, never above:
 *
 *   app        src/app.ts, src/main.ts, src/metrics.ts — wiring: roles, processes, the CLI entry
 *   transport  smtp → mx;  api → cli     — listeners and commands (the arrow: may import)
 *   domain     accept bounce compose custom-domains delivery domains inbound marketing message
 *              reporting retention templates tracking webhooks workers
 *   store      src/store — persistence for every area, SQLite and PostgreSQL
 *   config     src/config
 *   foundation core (the floor: imports nothing else of src), merge, dns, net, patches
 *
 * Folders on one floor may import each other as long as no two folders import each other in a
 * cycle: `npm run lint:layers` (scripts/check-layers.mjs) checks these rules on the graph collapsed
 * to folders, and that graph for cycles.
 */
const FOUNDATION = '^src/(core|merge|dns|net|patches)/';
const CONFIG = '^src/config/';
const STORE = '^src/store/';
const DOMAIN =
  '^src/(accept|bounce|compose|custom-domains|delivery|domains|inbound|marketing|message|reporting|retention|templates|tracking|webhooks|workers)/';
const TRANSPORT = '^src/(smtp|mx|api|cli)/';
const APP = '^src/(app|main|metrics)\\.ts$';

const above = (name, from, to) => ({
  name,
  severity: 'error',
  comment: `${name}: a module imports a floor above its own (see .dependency-cruiser.cjs)`,
  from: { path: from },
  to: { path: to },
});

module.exports = {
  forbidden: [
    above('foundation-imports-up', FOUNDATION, [CONFIG, STORE, DOMAIN, TRANSPORT, APP]),
    above('config-imports-up', CONFIG, [STORE, DOMAIN, TRANSPORT, APP]),
    above('store-imports-up', STORE, [DOMAIN, TRANSPORT, APP]),
    above('domain-imports-up', DOMAIN, [TRANSPORT, APP]),
    above('transport-imports-app', TRANSPORT, APP),
    {
      name: 'core-is-the-floor',
      severity: 'error',
      comment: 'src/core imports nothing else of src',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    // The transports' order: the MX listener reuses the submission listener's pieces; the CLI
    // prints resources in the management API's wire shapes. Never the other way.
    { name: 'smtp-is-below-mx-api-cli', severity: 'error', from: { path: '^src/smtp/' }, to: { path: '^src/(mx|api|cli)/' } },
    { name: 'mx-is-below-api-cli', severity: 'error', from: { path: '^src/mx/' }, to: { path: '^src/(api|cli)/' } },
    { name: 'api-is-below-cli', severity: 'error', from: { path: '^src/api/' }, to: { path: '^src/(cli|smtp|mx)/' } },
    {
      name: 'no-dev-dependencies-in-src',
      severity: 'error',
      comment: 'src ships; devDependencies are not installed in production',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'not-to-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
  },
};
