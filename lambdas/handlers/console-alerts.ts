import { alertPage } from '../services/console';
import { consoleDeps, consoleHandler } from './console-web';

/** `GET|POST /console/alerts/{reference}`: a screening alert, and its acknowledgement with a follow-up status. */
export const handler = consoleHandler('alerts', consoleDeps, [
  { pattern: /^\/console\/alerts\/[^/]+$/, GET: alertPage, POST: alertPage },
]);
