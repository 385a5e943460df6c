/**
 * STAND-INS for AWS services that cannot run here, with AWS's behaviour as far as it is
 * documented (quotas, error shapes). Each is named a stand-in wherever it is used: figures
 * measured against one say how our code behaves at AWS's limits, not how AWS performs.
 */
export * from './connections-standin.js';
export * from './connections-standin-process.js';
export * from './fan-out-rig.js';
export * from './model-check.js';
