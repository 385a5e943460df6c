/**
 * The house plan, enforced (`npm run lint:deps`, part of `npm run lint`): which workspace may
 * import what. docs/architecture.md ("Code map") states the same rules in words;
 * devkit/test/dependency-rules.test.ts plants a violation of each and sees it caught.
 *
 * Workspaces, and what each may use:
 *   shared        the domain core: nothing (no adapter library, no other workspace)
 *   cli           how every command line behaves: shared
 *   legacy-server the droplet: shared, cli
 *   serverless    the Lambda deployment: shared, cli
 *   migration     MongoDB -> DynamoDB: shared, cli, both deployments
 *   devkit        the local-stack toolkit (development only): the above
 *   loadtest      load runner, report, cost model: shared, cli, devkit
 *   web           the dashboard: shared
 * Every such import goes through the package name and its `exports`, and the importer lists the
 * package in its package.json (rule `workspace-imports-declared-dependencies`, generated below from
 * the package.json files themselves).
 */
const fs = require('node:fs');
const path = require('node:path');

/** Workspace folder -> package name, from the root package.json. */
const root = JSON.parse(fs.readFileSync(path.join(__dirname, 'package.json'), 'utf8'));
const WORKSPACES = root.workspaces;
const manifest = (ws) =>
  JSON.parse(fs.readFileSync(path.join(__dirname, ws, 'package.json'), 'utf8'));
const folderOf = Object.fromEntries(WORKSPACES.map((ws) => [manifest(ws).name, ws]));

/** Code that runs in production (deployed or bundled); the rest is tooling for this machine. */
const PRODUCTION_SRC = '^(shared|cli|legacy-server|serverless|migration|web)/src/';
const ANY_WORKSPACE = `^(${WORKSPACES.join('|')})/`;
/**
 * Libraries that do I/O or render: the core reaches them only through ports. jose is not one of
 * them: signing and verifying JWTs is pure computation (WebCrypto), and the core's viewer tokens
 * and Slack sign-in (`shared/src/auth/`, issue 12) use it so that both deployments accept exactly
 * the same tokens. Its remote key set (`createRemoteJWKSet`) would do I/O; the core passes the
 * deployment's `fetch` in instead and builds a local key set.
 */
const ADAPTER_LIBRARIES =
  'node_modules/(express|ws|mongodb|@aws-sdk/[^/]+|@aws-lambda-powertools/[^/]+|react|react-dom|pino|ioredis|prom-client)/';

/** One rule per workspace: it may import only the workspaces its package.json lists. */
function declaredWorkspaceRules() {
  return WORKSPACES.map((ws) => {
    const m = manifest(ws);
    const declared = Object.keys({ ...m.dependencies, ...m.devDependencies })
      .map((name) => folderOf[name])
      .filter(Boolean);
    const allowed = [ws, ...declared].map((f) => f.replace(/[-/]/g, (c) => `\\${c}`)).join('|');
    return {
      name: 'workspace-imports-declared-dependencies',
      comment: `${ws} imports another workspace it does not list in ${ws}/package.json (it lists: ${declared.join(', ') || 'none'}). Add the dependency, or do not import it.`,
      severity: 'error',
      from: { path: `^${ws}/` },
      to: { dependencyTypes: ['aliased-workspace'], pathNot: `^(${allowed})/` },
    };
  });
}

module.exports = {
  forbidden: [
    {
      name: 'no-relative-import-leaves-workspace',
      comment:
        'A relative import reaches into another workspace. Import it by package name, through an export it declares in its package.json.',
      severity: 'error',
      from: { path: `${ANY_WORKSPACE}` },
      to: { dependencyTypes: ['local'], dependencyTypesNot: ['aliased'], pathNot: '^$1/' },
    },
    {
      name: 'core-imports-no-adapter',
      comment:
        'shared/src is the pure core (DESIGN.md, "The one rule"): no I/O or UI library, no other workspace. Pass what it needs through a port.',
      severity: 'error',
      from: { path: '^shared/src/' },
      to: {
        path: [ADAPTER_LIBRARIES, '^(cli|devkit|legacy-server|serverless|migration|loadtest|web)/'],
      },
    },
    {
      name: 'production-src-no-dev-tooling',
      comment:
        'Production code imports dev, bench or test tooling (the devkit toolkit, loadtest, a test/ or bench/ folder, test-support).',
      severity: 'error',
      from: { path: PRODUCTION_SRC },
      to: { path: '^(devkit|loadtest)/|^[^/]+/(test|bench|test-support)/' },
    },
    {
      name: 'production-src-no-dev-dependency',
      comment:
        'Production code imports a devDependency, which is not installed where it runs. Make it a dependency, or keep it out of src/.',
      severity: 'error',
      from: { path: PRODUCTION_SRC },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'serverless-never-imports-droplet',
      comment:
        'The serverless deployment must build and run without legacy-server: removing the droplet is the point of the migration.',
      severity: 'error',
      from: { path: '^serverless/' },
      to: { path: '^legacy-server/' },
    },
    {
      name: 'droplet-never-imports-serverless',
      comment: 'The droplet must not depend on the deployment that replaces it.',
      severity: 'error',
      from: { path: '^legacy-server/' },
      to: { path: '^serverless/' },
    },
    {
      name: 'deployments-do-not-know-the-migration',
      comment: 'The migration knows both deployments; neither deployment knows the migration.',
      severity: 'error',
      from: { path: '^(shared|cli|legacy-server|serverless)/' },
      to: { path: '^migration/' },
    },
    {
      name: 'no-unresolvable-import',
      comment:
        'This import resolves to nothing, often a subpath another workspace does not export. Use one of its exports.',
      severity: 'error',
      from: { path: ANY_WORKSPACE },
      to: { couldNotResolve: true, pathNot: '^virtual:' },
    },
    ...declaredWorkspaceRules(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: {
      path: [
        '(^|/)(dist|\\.serverless|\\.data|\\.tools|coverage|test-artifacts)/',
        // k6 scripts run in k6, whose modules (k6/http, ...) do not exist for Node.
        '^loadtest/k6/',
        '\\.planted-violation\\.ts$',
      ],
    },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Manifests are combined up to the root, so that workspace packages are recognised as such
    // (`aliased-workspace`) and root devDependencies count as devDependencies.
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
