import { callback, signIn, signOut } from '../services/console';
import { consoleHandler } from './console-web';

/** `GET /console/signin`, `GET /console/callback`, `POST /console/signout`: the session's start and end. */
export const handler = consoleHandler('auth', [
  { pattern: /^\/console\/signin$/, GET: signIn },
  { pattern: /^\/console\/callback$/, GET: callback },
  { pattern: /^\/console\/signout$/, POST: signOut },
]);
