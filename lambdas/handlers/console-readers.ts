import { readerPage } from '../services/console';
import { consoleDeps, consoleHandler } from './console-web';

/** `GET /console/readers/{reference}`: what staff need to know about one reader (audited). */
export const handler = consoleHandler('readers', consoleDeps, [
  { pattern: /^\/console\/readers\/[^/]+$/, GET: readerPage },
]);
