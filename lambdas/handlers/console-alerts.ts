import { alertPage } from '../services/console';
import { consoleHandler } from './console-web';

/** `GET|POST /console/alerts/{reference}`: a screening alert, and its acknowledgement with a follow-up status. */
export const handler = consoleHandler('alerts', [
  { pattern: /^\/console\/alerts\/[^/]+$/, GET: alertPage, POST: alertPage },
]);
