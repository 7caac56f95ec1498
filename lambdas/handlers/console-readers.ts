import { readerPage } from '../services/console';
import { consoleHandler } from './console-web';

/** `GET /console/readers/{reference}`: what staff need to know about one reader (audited). */
export const handler = consoleHandler('readers', [{ pattern: /^\/console\/readers\/[^/]+$/, GET: readerPage }]);
