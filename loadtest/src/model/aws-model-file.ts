/**
 * Reads loadtest/cost/aws-model.json, the one file of the AWS model's parameters, validated: a
 * parameter without a value, a unit or a source status is an error naming it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { AwsParameters } from './aws-model.js';

export const AWS_MODEL_PATH = fileURLToPath(new URL('../../cost/aws-model.json', import.meta.url));

const status = z.enum(['official', 'secondary', 'measured-here', 'assumption']);
const provenance = {
  unit: z.string().min(1),
  source: z.string().nullable(),
  sourceStatus: status,
  evidence: z.array(z.string()).optional(),
  note: z.string().optional(),
};
const value = z.object({ value: z.number().nonnegative(), ...provenance });
const latency = z
  .object({ p50Ms: z.number().positive(), p99Ms: z.number().positive(), ...provenance })
  .refine((l) => l.p99Ms >= l.p50Ms, 'p99Ms must be at least p50Ms');

export const awsModelFileSchema = z.object({
  checked: z.string(),
  parameters: z.object({
    apiGatewayThrottleRps: value,
    apiGatewayThrottleBurst: value,
    snsToLambda: latency,
    sqsToLambda: latency,
    lambdaInvoke: latency,
    dynamoDbRequest: latency,
    dynamoDbScanPage: latency,
    postToConnectionRoundTrip: latency,
    coldStartShare: value,
    coldStart: latency,
    cpuPerPostUs: value,
    lambdaMemoryPerVcpuMb: value,
    lambdaConcurrencyQuota: value,
    gateMarkInvocationMs: value,
    apiRequestsPerDashboard: z.object({
      pingsPerHour: z.number().nonnegative(),
      requestsPerPing: z.number().nonnegative(),
      sessionHours: z.number().positive(),
      requestsPerSession: z.number().nonnegative(),
      ...provenance,
    }),
    slackEventCap: value,
  }),
});
export type AwsModelFile = z.infer<typeof awsModelFileSchema>;

const logNormal = (l: { p50Ms: number; p99Ms: number }) =>
  ({ kind: 'lognormal', p50Ms: l.p50Ms, p99Ms: l.p99Ms }) as const;

export function parametersFromFile(file: AwsModelFile): AwsParameters {
  const p = file.parameters;
  return {
    throttle: {
      ratePerSecond: p.apiGatewayThrottleRps.value,
      burst: p.apiGatewayThrottleBurst.value,
    },
    snsToLambda: logNormal(p.snsToLambda),
    lambdaInvoke: logNormal(p.lambdaInvoke),
    dynamoDbRequest: logNormal(p.dynamoDbRequest),
    dynamoDbScanPage: logNormal(p.dynamoDbScanPage),
    postToConnectionRoundTrip: logNormal(p.postToConnectionRoundTrip),
    coldStartShare: p.coldStartShare.value,
    coldStart: logNormal(p.coldStart),
    cpuPerPostUs: p.cpuPerPostUs.value,
    lambdaMemoryPerVcpuMb: p.lambdaMemoryPerVcpuMb.value,
    lambdaConcurrencyQuota: p.lambdaConcurrencyQuota.value,
    gateMarkInvocationMs: p.gateMarkInvocationMs.value,
    perDashboard: {
      pingsPerHour: p.apiRequestsPerDashboard.pingsPerHour,
      requestsPerPing: p.apiRequestsPerDashboard.requestsPerPing,
      sessionHours: p.apiRequestsPerDashboard.sessionHours,
      requestsPerSession: p.apiRequestsPerDashboard.requestsPerSession,
    },
    slackEventCap: p.slackEventCap.value,
  };
}

/** Loads and validates the file; throws naming the first bad field. */
export function loadAwsModelFile(file: string = AWS_MODEL_PATH): AwsModelFile {
  const parsed = awsModelFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Each parameter as one line of a table: its value (or p50 / p99), status and unit. */
export function describeParameters(file: AwsModelFile): {
  readonly name: string;
  readonly value: string;
  readonly status: string;
  readonly unit: string;
}[] {
  return Object.entries(file.parameters).map(([name, entry]) => {
    const e = entry as {
      sourceStatus: string;
      unit: string;
      value?: number;
      p50Ms?: number;
      p99Ms?: number;
    };
    return {
      name,
      value:
        e.value !== undefined
          ? String(e.value)
          : e.p50Ms !== undefined
            ? `p50 ${e.p50Ms} ms / p99 ${e.p99Ms} ms`
            : 'see the file',
      status: e.sourceStatus,
      unit: e.unit,
    };
  });
}
