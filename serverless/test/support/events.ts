/**
 * Lambda events shaped like the ones API Gateway and SNS really send (payloads copied from the
 * AWS documentation's examples, with our values), so handler tests exercise the same fields.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyWebsocketEventV2, SNSEvent } from 'aws-lambda';

const API_ID = 'a1b2c3d4e5';
const REGION = 'us-east-1';

export interface HttpEventSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Raw bytes; sent base64-encoded when `base64` is true, as text otherwise. */
  readonly body?: Buffer;
  readonly base64?: boolean;
}

/** An HTTP API (payload format 2.0) event. */
export function httpApiEvent(spec: HttpEventSpec): APIGatewayProxyEventV2 {
  const now = Date.now();
  const routeKey = `${spec.method} ${spec.path}`;
  const body =
    spec.body === undefined
      ? undefined
      : spec.base64
        ? spec.body.toString('base64')
        : spec.body.toString('utf8');
  return {
    version: '2.0',
    routeKey,
    rawPath: spec.path,
    rawQueryString: '',
    headers: {
      accept: '*/*',
      'accept-encoding': 'gzip,deflate',
      host: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'x-amzn-trace-id': `Root=1-${now.toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
      'x-forwarded-for': '54.209.150.10',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...(spec.body === undefined ? {} : { 'content-length': String(spec.body.byteLength) }),
      ...spec.headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: API_ID,
      domainName: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
      domainPrefix: API_ID,
      http: {
        method: spec.method,
        path: spec.path,
        protocol: 'HTTP/1.1',
        sourceIp: '54.209.150.10',
        userAgent: 'Slackbot 1.0 (+https://api.slack.com/robots)',
      },
      requestId: `${randomUUID().slice(0, 14)}=`,
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: spec.base64 === true,
  };
}

export interface WsEventSpec {
  readonly routeKey: string;
  readonly connectionId: string;
  readonly connectedAt?: number;
  /** A frame's text; sent base64-encoded when `base64` is true. */
  readonly body?: string;
  readonly base64?: boolean;
}

/** A WebSocket API event ($connect, $disconnect or a message route). */
export function wsEvent(
  spec: WsEventSpec,
): APIGatewayProxyWebsocketEventV2 & { headers?: Record<string, string> } {
  const now = Date.now();
  const eventType =
    spec.routeKey === '$connect'
      ? 'CONNECT'
      : spec.routeKey === '$disconnect'
        ? 'DISCONNECT'
        : 'MESSAGE';
  const event: APIGatewayProxyWebsocketEventV2 & { headers?: Record<string, string> } = {
    requestContext: {
      routeKey: spec.routeKey,
      messageId: eventType === 'MESSAGE' ? `${randomUUID().slice(0, 14)}=` : undefined,
      eventType,
      extendedRequestId: `${randomUUID().slice(0, 14)}=`,
      requestTime: new Date(now).toUTCString(),
      messageDirection: 'IN',
      stage: 'prod',
      connectedAt: spec.connectedAt ?? now - 1000,
      requestTimeEpoch: now,
      requestId: `${randomUUID().slice(0, 14)}=`,
      domainName: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
      connectionId: spec.connectionId,
      apiId: API_ID,
    } as APIGatewayProxyWebsocketEventV2['requestContext'],
    isBase64Encoded: spec.base64 === true,
  };
  if (spec.body !== undefined)
    event.body = spec.base64 ? Buffer.from(spec.body, 'utf8').toString('base64') : spec.body;
  if (eventType === 'CONNECT') {
    event.headers = {
      Host: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
      'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits',
      'Sec-WebSocket-Key': randomUUID(),
      'Sec-WebSocket-Version': '13',
      'X-Forwarded-For': '54.209.150.10',
      'X-Forwarded-Port': '443',
      'X-Forwarded-Proto': 'https',
    };
  }
  return event;
}

/** An SNS -> Lambda event carrying `messages`, one record each. */
export function snsEvent(topicArn: string, messages: readonly string[]): SNSEvent {
  return {
    Records: messages.map((message) => ({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: `${topicArn}:${randomUUID()}`,
      Sns: {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: topicArn,
        Subject: '',
        Message: message,
        Timestamp: new Date().toISOString(),
        SignatureVersion: '1',
        Signature: 'EXAMPLE',
        SigningCertUrl:
          'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
        UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
        MessageAttributes: {},
      },
    })),
  };
}
