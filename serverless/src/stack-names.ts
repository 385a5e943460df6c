/**
 * Physical names of the stack's resources, derived from the stage exactly as serverless.yml
 * derives them (`${self:service}-${sls:stage}-...`), so the local stack, the reconcile command
 * and the tests find the same tables and topic the deployed functions use.
 */
/** The physical table names, by role (`custom.tables.<role>` in serverless.yml). */
export interface TableNames {
  readonly states: string;
  readonly counts: string;
  readonly connections: string;
  /** The fan-out gate: coalescing's dirty set and lease. */
  readonly fanout: string;
}

/** `service:` in serverless.yml. */
export const SERVICE_NAME = 'reactometer';

/** The account id serverless-offline-sns puts in every topic ARN (its `accountId` default). */
export const OFFLINE_ACCOUNT_ID = '123456789012';

export function tableNames(stage: string): TableNames {
  return {
    states: `${SERVICE_NAME}-${stage}-states`,
    counts: `${SERVICE_NAME}-${stage}-counts`,
    connections: `${SERVICE_NAME}-${stage}-connections`,
    fanout: `${SERVICE_NAME}-${stage}-fanout`,
  };
}

export function countsTopicName(stage: string): string {
  return `${SERVICE_NAME}-${stage}-count-changes`;
}

/** The topic's ARN inside serverless-offline-sns, which creates topics by name. */
export function offlineTopicArn(stage: string, region: string): string {
  return `arn:aws:sns:${region}:${OFFLINE_ACCOUNT_ID}:${countsTopicName(stage)}`;
}

/** A function's physical name, as the Framework names it (`${service}-${stage}-${function}`). */
export function functionName(stage: string, fn: 'fanout' | 'fanoutWorker'): string {
  return `${SERVICE_NAME}-${stage}-${fn}`;
}
