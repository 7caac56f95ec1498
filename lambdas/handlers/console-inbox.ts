import type { ConsoleRequest } from '../services/console-access';
import { inbox } from '../services/console';
import { consoleDeps, consoleHandler } from './console-web';

const toInbox = (req: ConsoleRequest) => Promise.resolve({ status: 302, location: `${req.path}/inbox` });

/** `GET /console` (to the inbox) and `GET /console/inbox`. */
export const handler = consoleHandler('inbox', consoleDeps, [
  { pattern: /^\/console$/, GET: toInbox },
  { pattern: /^\/console\/inbox$/, GET: inbox },
]);
