import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { logger, metrics } from './runtime';

type HttpEvent = APIGatewayProxyEventV2;
type HttpResult = APIGatewayProxyStructuredResultV2;

/**
 * An HTTP API function (LINE's webhook, the residents' pages, the staff console): Powertools' logger context and
 * metrics flush, and anything unexpected answered as a bare 500 that never shows its message to the caller. The
 * error is logged by name only, under `failure`: an SDK error's message can quote a key, an address or a form value.
 */
export function httpFunction(failure: string, handler: (event: HttpEvent) => Promise<HttpResult>) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(
      httpErrorHandler({
        fallbackMessage: 'internal error',
        logger: (error: unknown) => logger.error(failure, { error: error instanceof Error ? error.name : 'unknown' }),
      }),
    )
    .handler(handler);
}

/** The request body as text: API Gateway base64-encodes bodies it does not take for text. */
export function eventBody(event: HttpEvent): string {
  if (event.body === undefined) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}
