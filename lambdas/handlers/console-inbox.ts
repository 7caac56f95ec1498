import { inbox, type ConsoleRequest } from '../services/console';
import { consoleHandler } from './console-web';

const toInbox = (req: ConsoleRequest) => Promise.resolve({ status: 302, location: `${req.path}/inbox` });

/** `GET /console` (to the inbox) and `GET /console/inbox`. */
export const handler = consoleHandler('inbox', [
  { pattern: /^\/console$/, GET: toInbox },
  { pattern: /^\/console\/inbox$/, GET: inbox },
]);
