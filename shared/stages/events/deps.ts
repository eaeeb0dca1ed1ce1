import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { loadPipeline } from '../../core/config/load-config';
import { setting } from '../../core/settings';
import type { EventsDeps } from './publish';

let eventBridge: EventBridgeClient | undefined;

/** The events function's dependencies from the Lambda environment (its endpoint: AWS_ENDPOINT_URL_EVENTBRIDGE). */
export function eventsDepsFromEnv(): EventsDeps {
  eventBridge ??= new EventBridgeClient({});
  return {
    eventBridge,
    eventBusName: setting('EVENT_BUS_NAME'),
    stage: setting('LANDFALL_STAGE'),
    pipeline: loadPipeline(),
  };
}
